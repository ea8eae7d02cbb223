package dev.cairn.pipeline;

import dev.cairn.io.AtomicOutputGroup;
import dev.cairn.signing.DevelopmentPki;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Pem;
import dev.cairn.signing.SigningException;
import dev.cairn.signing.secureboot.OvmfVarStore;
import dev.cairn.signing.secureboot.SecureBootKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bouncycastle.asn1.x509.KeyPurposeId;

/**
 * The {@code dev} key source: throw-away development keys in one directory (default
 * {@code OUT/dev-keys}), generated on first use and reused afterwards, so rebuilds sign with the
 * same keys and stay byte-identical. Holds a Secure Boot hierarchy ({@code secureboot/PK|KEK|db},
 * plus {@code OVMF_VARS.fd} with them enrolled when Debian's OVMF template exists), a CA with a
 * code-signing leaf for the manifest and OCI signatures ({@code ca.crt}, {@code signer.*}) and a
 * PCR policy key. A README says what they are; every certificate's subject carries
 * "(development, not for release)".
 */
final class DevKeys {
    static final Path OVMF_TEMPLATE = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");
    private static final Duration VALIDITY = Duration.ofDays(3650);
    private final Path dir;
    private final String imageName;

    private DevKeys(Path dir, String imageName) {
        this.dir = dir;
        this.imageName = imageName;
    }

    Path dir() {
        return dir;
    }

    Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    Path dbCertificate() {
        return dir.resolve("secureboot/db.crt");
    }

    /** Opens {@code dir}, creating the keys when it holds none yet. */
    static DevKeys openOrCreate(Path dir, String imageName) throws IOException {
        DevKeys k = new DevKeys(dir, imageName);
        if (Files.isRegularFile(dir.resolve("signer.key")) && Files.isRegularFile(dir.resolve("secureboot/db.key"))
                && Files.isRegularFile(dir.resolve("pcr.key"))) {
            return k;
        }
        if (Files.exists(dir.resolve("signer.key")) || Files.exists(dir.resolve("secureboot/db.key"))) {
            throw new IllegalArgumentException(dir + " holds an incomplete set of development keys: remove it to start afresh");
        }
        Files.createDirectories(dir.resolve("secureboot"));
        // every key, certificate and README or none: a failure midway leaves no half set behind
        try (AtomicOutputGroup out = new AtomicOutputGroup()) {
            write(out, dir, imageName);
            try {
                out.commit();
            } catch (IOException e) {
                throw new PipelineException(PipelineException.Kind.IO, "cannot write the development keys: " + PipelineException.describe(e), e);
            }
        }
        return k;
    }

    private static void write(AtomicOutputGroup out, Path dir, String imageName) throws IOException {
        Instant now = Instant.now().truncatedTo(ChronoUnit.DAYS);
        String who = "cairn " + imageName;
        Map<String, SecureBootKeys.Level> sb = new SecureBootKeys(2048, VALIDITY, UUID.randomUUID(), who + DevelopmentPki.MARK)
                .create(now, List.of(), List.of());
        for (SecureBootKeys.Level l : sb.values()) {
            out.writePrivate(dir.resolve("secureboot/" + l.variable() + ".key"), l.keyPem());
            out.write(dir.resolve("secureboot/" + l.variable() + ".crt"), l.certPem());
            out.write(dir.resolve("secureboot/" + l.variable() + ".esl"), l.esl());
            out.write(dir.resolve("secureboot/" + l.variable() + ".auth"), l.auth());
        }
        if (Files.isRegularFile(OVMF_TEMPLATE)) {
            byte[] fd = OvmfVarStore.enroll(Files.readAllBytes(OVMF_TEMPLATE), OvmfVarStore.secureBoot(sb.get("PK").esl(),
                    sb.get("KEK").esl(), sb.get("db").esl(), null, now));
            out.write(dir.resolve("secureboot/OVMF_VARS.fd"), fd);
        }
        KeyMaterial ca = DevelopmentPki.ca(who + " CA", 3072, now, VALIDITY);
        KeyMaterial signer = DevelopmentPki.leaf(ca, who + " release signer", 3072, now, VALIDITY, KeyPurposeId.id_kp_codeSigning);
        KeyMaterial pcr = DevelopmentPki.selfSigned(who + " PCR policy", 2048, now, VALIDITY);
        out.writePrivate(dir.resolve("ca.key"), key(ca));
        out.write(dir.resolve("ca.crt"), cert(ca.certificate()));
        out.writePrivate(dir.resolve("signer.key"), key(signer));
        out.write(dir.resolve("signer.crt"), (new String(cert(signer.certificate()), StandardCharsets.US_ASCII)
                + new String(cert(ca.certificate()), StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
        out.writePrivate(dir.resolve("pcr.key"), key(pcr));
        out.write(dir.resolve("pcr.crt"), cert(pcr.certificate()));
        out.write(dir.resolve("README"), String.join("\n",
                "DEVELOPMENT KEYS - NOT FOR RELEASE",
                "",
                "cairn build generated these throw-away keys because the spec says 'dev' for a key source.",
                "Anyone with this directory can sign images that your test machines trust. Never enroll",
                "secureboot/*.auth or OVMF_VARS.fd on a machine that matters, and never ship images signed by them.",
                "",
                "secureboot/PK|KEK|db.*  Secure Boot hierarchy: db signs the UKI, the dm-verity root hash and the IPE policy",
                "secureboot/OVMF_VARS.fd OVMF variable store with PK/KEK/db enrolled, Secure Boot on (QEMU testing)",
                "ca.crt, ca.key          development CA: cairn verify OUT --ca ca.crt --db-cert secureboot/db.crt",
                "signer.crt, signer.key  leaf of that CA: signs the build manifest and the OCI image (cosign)",
                "pcr.crt, pcr.key        PCR 11 policy key (.pcrsig/.pcrpkey in the UKI)",
                "ima.crt, ima.der, ima.key  leaf of the CA (made when a spec first has rootfs.ima: dev): signs security.ima;",
                "                        evmctl ima_verify --key ima.der, or load ima.der into the .ima keyring",
                "").getBytes(StandardCharsets.US_ASCII));
    }

    /** The development key for a role. */
    KeyMaterial load(KeyRole role) throws IOException {
        return switch (role) {
            case SECUREBOOT, VERITY, IPE -> KeyLoader.fromFiles(dir.resolve("secureboot/db.key"), dir.resolve("secureboot/db.crt"), null);
            case PCR -> KeyLoader.fromFiles(dir.resolve("pcr.key"), dir.resolve("pcr.crt"), null);
            case MANIFEST, OCI -> KeyLoader.fromFiles(dir.resolve("signer.key"), dir.resolve("signer.crt"), null);
            case IMA -> {
                ensureImaKey();
                yield KeyLoader.fromFiles(dir.resolve("ima.key"), dir.resolve("ima.crt"), null);
            }
        };
    }

    /**
     * The IMA signing key, a leaf of the development CA with the code-signing usage (what the
     * kernel's .ima keyring wants: a key certified by a CA it trusts), made on first use so that
     * development key directories from before it get one too.
     */
    private void ensureImaKey() throws IOException {
        if (Files.isRegularFile(dir.resolve("ima.key")) && Files.isRegularFile(dir.resolve("ima.crt"))) {
            return;
        }
        KeyMaterial ca = KeyLoader.fromFiles(dir.resolve("ca.key"), dir.resolve("ca.crt"), null);
        KeyMaterial ima = DevelopmentPki.leaf(ca, "cairn " + imageName + " IMA signer", 2048, Instant.now().truncatedTo(ChronoUnit.DAYS),
                VALIDITY, KeyPurposeId.id_kp_codeSigning);
        try (AtomicOutputGroup out = new AtomicOutputGroup()) {
            out.writePrivate(dir.resolve("ima.key"), key(ima));
            out.write(dir.resolve("ima.crt"), cert(ima.certificate()));
            try {
                out.write(dir.resolve("ima.der"), ima.certificate().getEncoded());
            } catch (CertificateEncodingException e) {
                throw new SigningException("cannot encode a certificate", e);
            }
            out.commit();
        }
    }

    private static byte[] key(KeyMaterial km) {
        return Pem.encode("PRIVATE KEY", km.key().getEncoded()).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] cert(X509Certificate c) throws SigningException {
        try {
            return Pem.encode("CERTIFICATE", c.getEncoded()).getBytes(StandardCharsets.US_ASCII);
        } catch (CertificateEncodingException e) {
            throw new SigningException("cannot encode a certificate", e);
        }
    }
}
