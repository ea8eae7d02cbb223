package dev.cairn.cli;

import dev.cairn.signing.CmsOptions;
import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.CmsVerifier;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Pem;
import dev.cairn.signing.authenticode.AuthenticodeSigner;
import dev.cairn.signing.authenticode.AuthenticodeVerifier;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The launcher's AppCDS training run (first start of a new installation, property
 * {@code cairn.cds.training}): after {@code --help} has loaded every command class, walk the code
 * paths signing commands share — PEM key loading, CMS and Authenticode signing and verification —
 * on a throw-away in-memory key in a private temp directory, so their classes come from the
 * archive instead of the jars. Writes nothing outside that directory, which it deletes; any failure
 * only means a smaller archive.
 */
final class CdsTraining {
    private CdsTraining() {
    }

    static void run() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("cairn-cds-");
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(1024); // training only: the classes are those of any RSA size
            KeyPair kp = g.generateKeyPair();
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                    new X500Name("CN=cairn cds training"), BigInteger.ONE, Date.from(Instant.EPOCH), Date.from(Instant.EPOCH.plusSeconds(1)),
                    new X500Name("CN=cairn cds training"), kp.getPublic()).build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
            Path key = dir.resolve("k.pem");
            Path crt = dir.resolve("c.pem");
            Files.writeString(key, Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(crt, Pem.encode("CERTIFICATE", cert.getEncoded()));
            KeyMaterial km = KeyLoader.fromFiles(key, crt, null);
            byte[] data = "cairn".getBytes(StandardCharsets.US_ASCII);
            byte[] cms = CmsSigner.sign(data, km, new CmsOptions(true, true, true, "SHA-256"));
            CmsVerifier.verify(cms, data, List.of(cert), List.of(), Instant.EPOCH);
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(data);
            AuthenticodeVerifier.verify(AuthenticodeSigner.sign(digest, "SHA-256", km), digest, List.of(cert));
        } catch (Exception | LinkageError e) {
            // a smaller archive, nothing more
        } finally {
            delete(dir);
        }
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp directory: best effort
        }
    }
}
