package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.io.FormatException;
import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.DmVeritySignatures;
import dev.cairn.oci.NotationSignatures;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.SigstoreBundles;
import dev.cairn.pipeline.oci.NodeLayerConversion;
import dev.cairn.signing.CmsVerifier;
import dev.cairn.signing.RootHashSignature;
import dev.cairn.signing.CertificateTrust;
import dev.cairn.signing.JwsSignature;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.RawSignature;
import dev.cairn.signing.SigningException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci verify}: cosign, notation or sigstore-bundle signatures, offline, in a layout or a registry. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Verify an image's signatures in a layout or a registry against a key, a certificate or a CA.",
                "--format cosign (default; like cosign verify --key K --insecure-ignore-tlog): a signature at sha256-<hex>.sig",
                "must verify over its payload, which must name the image's manifest digest. --format notation: a referrer's JWS",
                "must verify with its x5c leaf, the algorithm must match the key, the payload must name this manifest and the",
                "leaf must chain to --ca (or be --cert / have --key). --format sigstore-bundle: a bundle referrer's message",
                "signature must verify over this manifest's bytes, its digest must be the manifest's, and its certificate must",
                "chain to --ca (or be --cert / have --key). --format dm-verity: a referrer must sign every image layer; each",
                "layer is converted as the node converts it (the referrer's conversion, or --conversion), its root hash",
                "recomputed and its PKCS#7 verified over that hash. No transparency log is consulted. Exit 1 naming what failed."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "TARGET")
    String target;
    @Option(names = "--format", paramLabel = "FORMAT", converter = SignatureFormat.Converter.class,
            description = "cosign (default), notation or sigstore-bundle.")
    SignatureFormat format = SignatureFormat.COSIGN;
    @ArgGroup(multiplicity = "1")
    Trust trust;
    @Option(names = "--conversion", paramLabel = "CONVERSION",
            description = "dm-verity: the node-side conversion to recompute (default: the one the referrer names): tardev, containerd-erofs or containerd-erofs-tarindex.")
    String conversion;
    @Mixin
    RegistryOptions registry;
    @Mixin
    JsonOption json;

    static final class Trust {
        @Option(names = "--key", paramLabel = "PUB.pem", description = "The signer's public key (PEM).")
        Path key;
        @Option(names = "--cert", paramLabel = "CERT", description = "The signer's certificate (the signature's certificate must be it, or its key is used).")
        Path cert;
        @Option(names = "--ca", paramLabel = "CA.pem",
                description = "Trusted CA certificates (PEM): the signer certificate must chain to one (PKIX, valid now, no revocation check).")
        Path ca;
    }

    /** The trust the user gave, loaded once. */
    private record Anchor(PublicKey key, X509Certificate cert, List<X509Certificate> cas) {
        /** Checks {@code signer} (with {@code pool} as intermediates) against this anchor; returns why not, or null. */
        String check(X509Certificate signer, List<X509Certificate> pool, Instant now) throws SigningException {
            if (cas != null) {
                if (signer == null) {
                    return "the signature carries no certificate to chain to --ca";
                }
                try {
                    CertificateTrust.requireTrusted(signer, cas, pool, now);
                } catch (SigningException | GeneralSecurityException e) {
                    return e.getMessage();
                }
                return null;
            }
            if (cert != null) {
                if (signer != null && !signer.equals(cert)) {
                    return "signed by " + signer.getSubjectX500Principal() + ", not the --cert " + cert.getSubjectX500Principal();
                }
                return null;
            }
            if (signer != null && !signer.getPublicKey().equals(key)) {
                return "signed by " + signer.getSubjectX500Principal() + ", whose key is not --key";
            }
            return null;
        }

        /** The key to verify with: the given one, else the signer certificate's. */
        PublicKey keyFor(X509Certificate signer) {
            if (key != null) {
                return key;
            }
            if (cert != null) {
                return cert.getPublicKey();
            }
            return signer == null ? null : signer.getPublicKey();
        }
    }

    @Override
    public Integer call() throws IOException {
        Anchor anchor = new Anchor(trust.key != null ? KeyLoader.loadPublicKey(trust.key) : null,
                trust.cert != null ? KeyLoader.loadCertificates(trust.cert).get(0) : null,
                trust.ca != null ? KeyLoader.loadCertificates(trust.ca) : null);
        ImageTarget t = ImageTarget.open(target, registry, System.in);
        try {
            return verify(t, anchor, Instant.now());
        } catch (RegistryException e) {
            throw new CairnException(ExitCode.REGISTRY, "verifying " + t.display() + " failed: " + e.getMessage(), e);
        }
    }

    private int verify(ImageTarget t, Anchor anchor, Instant now) throws IOException {
        Descriptor subject = t.store().resolve(t.reference());
        List<String> why = new ArrayList<>();
        int present;
        String signer;
        switch (format) {
            case COSIGN -> {
                List<CosignSignatures.Signature> sigs = CosignSignatures.read(t.store(), subject.digest());
                present = sigs.size();
                signer = firstValid(sigs, s -> cosign(s, subject, anchor, now), why);
            }
            case NOTATION -> {
                List<NotationSignatures.Attached> sigs = NotationSignatures.read(t.store(), subject.digest());
                present = sigs.size();
                signer = firstValid(sigs, s -> notation(s, subject, anchor, now), why);
            }
            case SIGSTORE_BUNDLE -> {
                List<SigstoreBundles.Attached> sigs = SigstoreBundles.read(t.store(), subject.digest());
                present = sigs.size();
                byte[] manifest = present == 0 ? null : t.store().manifestBytes(subject);
                signer = firstValid(sigs, s -> bundle(s, manifest, subject, anchor, now), why);
            }
            case DM_VERITY -> {
                List<DmVeritySignatures.Attached> sigs = DmVeritySignatures.read(t.store(), subject.digest());
                present = sigs.size();
                signer = firstValid(sigs, s -> dmVerity(s, t, subject, anchor, now), why);
            }
            default -> throw new IllegalStateException("unhandled format " + format);
        }
        if (present == 0) {
            throw new CairnException(ExitCode.VERIFICATION_FAILED, "no " + format + " signature for " + subject.digest() + " in "
                    + t.store().describe() + (format == SignatureFormat.COSIGN ? " (no " + CosignSignatures.tag(subject.digest()) + " tag)"
                    : " (no referrer of that type; was the image changed after signing?)"));
        }
        if (signer == null) {
            throw new CairnException(ExitCode.VERIFICATION_FAILED, "no " + format + " signature of " + subject.digest() + " verifies: "
                    + String.join("; ", why));
        }
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("verified", true);
            m.put("format", format.toString());
            m.put("digest", subject.digest().toString());
            m.put("signer", signer);
            m.put("signatures", present);
            JsonOption.print(spec.commandLine().getOut(), m);
        } else {
            spec.commandLine().getOut().println("Verified " + subject.digest() + " (" + format + " signature by " + signer + ", "
                    + present + " present)");
        }
        return 0;
    }

    @FunctionalInterface
    private interface Check<T> {
        /** Returns the signer's description when {@code s} verifies; else throws RejectedIo (or FormatException). */
        String apply(T s) throws IOException;
    }

    private static <T> String firstValid(List<T> sigs, Check<T> check, List<String> why) throws IOException {
        for (T s : sigs) {
            try {
                return check.apply(s);
            } catch (FormatException e) {
                why.add(e.getMessage());
            } catch (RejectedIo e) {
                why.add(e.getMessage());
            }
        }
        return null;
    }

    /** A signature that does not verify (an IOException only so the checks can share one signature). */
    private static final class RejectedIo extends IOException {
        private static final long serialVersionUID = 1L;

        RejectedIo(String why) {
            super(why);
        }
    }

    private static String cosign(CosignSignatures.Signature s, Descriptor subject, Anchor anchor, Instant now) throws IOException {
        X509Certificate embedded = s.certificatePem() == null ? null : pemCertificate(s.certificatePem());
        if (anchor.cas() != null) { // with --key/--cert cosign uses that key whatever certificate is attached
            reject(anchor.check(embedded, embedded == null ? List.of() : List.of(embedded), now));
        }
        PublicKey key = anchor.keyFor(embedded);
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(s.base64Signature());
        } catch (IllegalArgumentException e) {
            throw new RejectedIo("signature is not base64");
        }
        if (!RawSignature.verify(s.payload(), raw, key)) {
            throw new RejectedIo("signature does not verify with the " + (anchor.key() != null ? "key" : "certificate"));
        }
        var signed = CosignSignatures.signedDigest(s.payload());
        if (!signed.equals(subject.digest())) {
            throw new RejectedIo("payload signs " + signed + ", not " + subject.digest());
        }
        return embedded != null ? embedded.getSubjectX500Principal().getName() : "the given key";
    }

    private static String notation(NotationSignatures.Attached a, Descriptor subject, Anchor anchor, Instant now) throws IOException {
        NotationSignatures.Envelope e = NotationSignatures.parse(a.envelope());
        X509Certificate leaf = e.chain().get(0);
        String expected = JwsSignature.algorithmFor(leaf.getPublicKey());
        if (!expected.equals(e.algorithm())) {
            throw new RejectedIo("envelope " + a.manifest().digest() + " uses " + e.algorithm() + " but its signer key requires " + expected);
        }
        if (!JwsSignature.verify(e.algorithm(), e.signingInput(), e.signature(), leaf.getPublicKey())) {
            throw new RejectedIo("envelope " + a.manifest().digest() + ": signature does not verify with its x5c certificate "
                    + leaf.getSubjectX500Principal());
        }
        if (anchor.key() != null && !anchor.key().equals(leaf.getPublicKey())) {
            throw new RejectedIo("envelope " + a.manifest().digest() + " is signed by " + leaf.getSubjectX500Principal() + ", whose key is not --key");
        }
        reject(anchor.check(leaf, e.chain(), now));
        Descriptor target = e.target();
        if (!target.digest().equals(subject.digest()) || target.size() != subject.size() || !target.mediaType().equals(subject.mediaType())) {
            throw new RejectedIo("envelope " + a.manifest().digest() + ": payload names " + target.mediaType() + " " + target.digest()
                    + " (" + target.size() + " bytes), not the manifest " + subject.mediaType() + " " + subject.digest() + " (" + subject.size() + " bytes)");
        }
        if (e.expiry() != null && now.isAfter(e.expiry())) {
            throw new RejectedIo("envelope " + a.manifest().digest() + " expired at " + e.expiry());
        }
        return leaf.getSubjectX500Principal().getName();
    }

    private static String bundle(SigstoreBundles.Attached a, byte[] manifest, Descriptor subject, Anchor anchor, Instant now)
            throws IOException {
        SigstoreBundles.Bundle b = SigstoreBundles.parse(a.bundle());
        if (b.certificate() == null && anchor.key() == null) {
            throw new RejectedIo("bundle " + a.manifest().digest() + " carries only a public key hint ('" + b.publicKeyHint() + "'): verify with --key");
        }
        reject(anchor.check(b.certificate(), b.certificate() == null ? List.of() : List.of(b.certificate()), now));
        PublicKey key = anchor.keyFor(b.certificate());
        if (!RawSignature.verify(manifest, b.signature(), key)) {
            throw new RejectedIo("bundle " + a.manifest().digest() + ": signature does not verify over manifest " + subject.digest());
        }
        if (!b.messageDigest().equals(subject.digest())) {
            throw new RejectedIo("bundle " + a.manifest().digest() + ": message digest " + b.messageDigest() + " is not the manifest's " + subject.digest());
        }
        return b.certificate() != null ? b.certificate().getSubjectX500Principal().getName() : "the given key";
    }

    /**
     * Every layer of the image has a signature in the referrer; each layer, converted as the node
     * converts it, has the signed root hash; each PKCS#7 verifies over that hash with the trusted signer.
     */
    private String dmVerity(DmVeritySignatures.Attached a, ImageTarget t, Descriptor subject, Anchor anchor, Instant now)
            throws IOException {
        String flag = conversion != null ? conversion : a.conversion();
        if (flag == null) {
            throw new RejectedIo("referrer " + a.manifest().digest() + " names no conversion: give --conversion");
        }
        NodeLayerConversion.Conversion conv;
        try {
            conv = NodeLayerConversion.Conversion.of(flag);
        } catch (IllegalArgumentException e) {
            throw new RejectedIo("referrer " + a.manifest().digest() + ": " + e.getMessage());
        }
        List<Descriptor> layers = t.store().readManifest(subject).manifest().layers();
        Map<String, DmVeritySignatures.LayerSignature> byLayer = new LinkedHashMap<>();
        for (DmVeritySignatures.LayerSignature s : a.layers()) {
            byLayer.putIfAbsent(s.layer().toString(), s);
        }
        String signer = null;
        for (int i = 0; i < layers.size(); i++) {
            Descriptor l = layers.get(i);
            String name = "layer " + i + " (" + l.digest() + ")";
            DmVeritySignatures.LayerSignature s = byLayer.get(l.digest().toString());
            if (s == null) {
                throw new RejectedIo("referrer " + a.manifest().digest() + " has no signature for " + name);
            }
            NodeLayerConversion.RootHash c;
            try (InputStream in = t.store().openBlob(l)) {
                c = NodeLayerConversion.rootHash(conv, l, in, Math.min(4, Runtime.getRuntime().availableProcessors()));
            } catch (FormatException e) {
                throw new RejectedIo(name + ": " + e.getMessage());
            }
            if (!c.rootHash().equals(s.rootHash())) {
                throw new RejectedIo(name + ": its " + conv + " root hash is " + c.rootHash() + ", the signature is for "
                        + s.rootHash());
            }
            X509Certificate embedded;
            try {
                embedded = CmsVerifier.signerCertificate(s.pkcs7());
            } catch (SigningException e) {
                throw new RejectedIo(name + ": " + e.getMessage());
            }
            reject(anchor.check(embedded, List.of(embedded), now));
            if (anchor.key() != null && !anchor.key().equals(embedded.getPublicKey())) {
                throw new RejectedIo(name + ": signed by " + embedded.getSubjectX500Principal() + ", whose key is not --key");
            }
            try {
                CmsVerifier.verify(s.pkcs7(), RootHashSignature.signedBytes(c.rootHash()),
                        anchor.cas() != null ? anchor.cas() : List.of(embedded), List.of(), now);
            } catch (SigningException e) {
                throw new RejectedIo(name + ": " + e.getMessage());
            }
            signer = embedded.getSubjectX500Principal().getName();
        }
        return signer;
    }

    private static void reject(String why) throws RejectedIo {
        if (why != null) {
            throw new RejectedIo(why);
        }
    }

    private static X509Certificate pemCertificate(String pem) throws FormatException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (CertificateException | ClassCastException e) {
            throw new FormatException("cosign certificate annotation", pem.length() + " characters", "not a PEM certificate");
        }
    }
}
