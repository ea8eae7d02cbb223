package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.DmVeritySignatures;
import dev.cairn.oci.NotationSignatures;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.SigstoreBundles;
import dev.cairn.pipeline.oci.NodeLayerConversion;
import dev.cairn.signing.JwsSignature;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.RawSignature;
import java.io.IOException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci sign}: cosign, notation or sigstore-bundle signatures, in a layout or a registry. */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = {"Sign an image or artifact in a layout or a registry as cosign or notation do.",
                "--format cosign (default): simple-signing payload and signature layer at the sha256-<hex>.sig tag",
                "(`cosign verify --key --insecure-ignore-tlog` accepts it). --format notation: Notary Project JWS envelope",
                "(PS256/384/512 or ES256/384 chosen from the key, x5c chain) as an OCI 1.1 referrer. --format sigstore-bundle:",
                "sigstore bundle v0.3 message signature over the manifest, signer certificate included, no transparency log,",
                "as a referrer. --format dm-verity --conversion tardev|containerd-erofs[-tarindex]: for each layer,",
                "the dm-verity root hash the container host computes over its own conversion of the layer,",
                "signed as the kernel checks it (detached DER PKCS#7 over the hex root hash, no attributes),",
                "one referrer for all layers (Notary Project dm-verity proposal).",
                "Referrers go through the referrers API, else the sha256-<hex> fallback tag.",
                "Keys from PEM files, PKCS#12 or a PKCS#11 token; --format cosign also signs with a key alone (a cosign.key,",
                "password from COSIGN_PASSWORD; cosign's keyed mode: no certificate in the signature; verify with --key cosign.pub).",
                "TARGET is LAYOUT:TAG or HOST/REPOSITORY:TAG (docker:// optional).",
                "In a layout, push the signature with the image (cosign: also push LAYOUT:sha256-<hex>.sig)."})
final class SignCommand implements Callable<Integer> {
    static final String SIGNING_AGENT = "cairn";

    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "TARGET")
    String target;
    @Option(names = "--format", paramLabel = "FORMAT", converter = SignatureFormat.Converter.class,
            description = "cosign (default), notation or sigstore-bundle.")
    SignatureFormat format = SignatureFormat.COSIGN;
    @Option(names = "--reference", paramLabel = "REGISTRY/REPOSITORY",
            description = "cosign: the docker-reference the payload names (required for a layout; default for a registry: its HOST/REPOSITORY).")
    String reference;
    @Option(names = "--conversion", paramLabel = "CONVERSION",
            description = "dm-verity: the node-side conversion whose root hashes are signed: tardev (Kata's tardev snapshotter), containerd-erofs (containerd's EROFS differ, mkfs.erofs 1.8) or containerd-erofs-tarindex (its tar-index mode).")
    String conversion;
    @Option(names = "--threads", paramLabel = "N", description = "dm-verity: hashing threads (default: available processors, at most 4).")
    Integer threads;
    @Option(names = "--no-certificate", description = "cosign: do not attach the signer certificate (dev.sigstore.cosign/certificate).")
    boolean noCertificate;
    @Mixin
    KeyOptions keys;
    @Mixin
    RegistryOptions registry;
    @Mixin
    SourceDateEpochOption time;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        if (format != SignatureFormat.COSIGN && (reference != null || noCertificate)) {
            throw new IllegalArgumentException("--reference and --no-certificate are cosign options (not for --format " + format + ")");
        }
        if (format != SignatureFormat.DM_VERITY && (conversion != null || threads != null)) {
            throw new IllegalArgumentException("--conversion and --threads are dm-verity options (not for --format " + format + ")");
        }
        NodeLayerConversion.Conversion conv = null;
        if (format == SignatureFormat.DM_VERITY) {
            if (conversion == null) {
                throw new IllegalArgumentException("--format dm-verity needs --conversion (tardev, containerd-erofs or containerd-erofs-tarindex): the root hashes are of the node's conversion");
            }
            conv = NodeLayerConversion.Conversion.of(conversion);
            if (threads != null && (threads < 1 || threads > 64)) {
                throw new IllegalArgumentException("--threads must be 1..64, not " + threads);
            }
        }
        if (keys.keyOnly() && format != SignatureFormat.COSIGN) {
            throw new IllegalArgumentException("--format " + format + " signatures carry the signer certificate: give --cert with --key"
                    + " (a key alone signs only --format cosign)");
        }
        // cosign's keyed mode: --key alone (a cosign.key or any PEM key), no certificate in the signature.
        Signer signer = keys.keyOnly()
                ? new Signer(null, keys.loadKeyOnly(), keys.keyFile().toString())
                : new Signer(keys.load(spec.commandLine().getErr()), null, null);
        Instant now = time.instant(spec.commandLine()).orElseGet(Instant::now);
        ImageTarget t = ImageTarget.open(target, registry, System.in);
        try {
            return sign(t, signer, now, conv);
        } catch (RegistryException e) {
            throw new CairnException(ExitCode.REGISTRY, "signing " + t.display() + " failed: " + e.getMessage(), e);
        }
    }

    /** Who signs: key material with its certificate, or (cosign keyed mode) a key alone. */
    private record Signer(KeyMaterial km, java.security.PrivateKey key, String keyName) {
        byte[] sign(byte[] data) throws IOException {
            return km != null ? RawSignature.sign(data, km) : RawSignature.sign(data, key, keyName);
        }
    }

    private int sign(ImageTarget t, Signer signer, Instant now, NodeLayerConversion.Conversion conv) throws IOException {
        KeyMaterial km = signer.km();
        Descriptor subject = t.store().resolve(t.reference());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("subject", subject.digest().toString());
        out.put("format", format.toString());
        Descriptor sigManifest;
        String where;
        switch (format) {
            case COSIGN -> {
                String dockerRef = reference != null ? reference : t.repositoryName();
                if (dockerRef == null) {
                    throw new IllegalArgumentException("--reference REGISTRY/REPOSITORY is required for a layout (the payload names where the image will live)");
                }
                byte[] payload = CosignSignatures.payload(dockerRef, subject.digest());
                String sig = Base64.getEncoder().encodeToString(signer.sign(payload));
                String pem = noCertificate || km == null ? null : dev.cairn.signing.Pem.encode("CERTIFICATE", der(km.certificate()));
                sigManifest = CosignSignatures.attach(t.store(), subject.digest(), new CosignSignatures.Signature(payload, sig, pem));
                out.put("tag", CosignSignatures.tag(subject.digest()));
                where = t.store().describe() + ":" + CosignSignatures.tag(subject.digest());
            }
            case NOTATION -> {
                List<X509Certificate> chain = km.chain().isEmpty() ? List.of(km.certificate()) : km.chain();
                if (!chain.get(0).equals(km.certificate())) {
                    throw new IllegalArgumentException("the certificate chain must start with the signer certificate");
                }
                X509Certificate last = chain.get(chain.size() - 1);
                if (!last.getSubjectX500Principal().equals(last.getIssuerX500Principal())) {
                    spec.commandLine().getErr().println("cairn: warning: the x5c chain ends at " + last.getSubjectX500Principal()
                            + ", not at a root; notation verifiers want the chain up to the root (append the CA certificates to the --cert file)");
                }
                String alg = JwsSignature.algorithmFor(km.certificate().getPublicKey());
                byte[] envelope = NotationSignatures.envelope(alg, subject, now, chain, SIGNING_AGENT,
                        input -> JwsSignature.sign(input, km));
                sigManifest = NotationSignatures.attach(t.store(), subject, envelope, chain, now);
                out.put("algorithm", alg);
                out.put("certificates", chain.size());
                where = t.store().describe() + "@" + sigManifest.digest();
            }
            case SIGSTORE_BUNDLE -> {
                byte[] manifest = t.store().manifestBytes(subject);
                byte[] sig = RawSignature.sign(manifest, km);
                byte[] bundle = SigstoreBundles.bundle(km.certificate(), subject.digest(), sig);
                sigManifest = SigstoreBundles.attach(t.store(), subject, bundle, now);
                where = t.store().describe() + "@" + sigManifest.digest();
            }
            case DM_VERITY -> {
                List<DmVeritySignatures.LayerSignature> sigs = signLayers(t, subject, conv, km);
                sigManifest = DmVeritySignatures.attach(t.store(), subject, sigs, conv.flag(), now);
                out.put("conversion", conv.flag());
                List<Map<String, String>> layers = new java.util.ArrayList<>();
                for (DmVeritySignatures.LayerSignature s : sigs) {
                    layers.add(Map.of("digest", s.layer().toString(), "rootHash", s.rootHash()));
                }
                out.put("layers", layers);
                where = t.store().describe() + "@" + sigManifest.digest();
            }
            default -> throw new IllegalStateException("unhandled format " + format);
        }
        out.put("signatureManifest", sigManifest.digest().toString());
        if (json.enabled()) {
            JsonOption.print(spec.commandLine().getOut(), out);
        } else {
            spec.commandLine().getOut().println("Signed " + subject.digest() + " (" + format + "): " + where);
        }
        return 0;
    }

    /** Each layer converted as the node converts it, its root hash signed. */
    private List<DmVeritySignatures.LayerSignature> signLayers(ImageTarget t, Descriptor subject, NodeLayerConversion.Conversion conv,
                                                              KeyMaterial km) throws IOException {
        if (!dev.cairn.oci.MediaTypes.isManifest(subject.mediaType())) {
            throw new IllegalArgumentException(t.display() + " is an index (" + subject.mediaType() + "): dm-verity signatures are per"
                    + " image layer; sign each platform's manifest (" + "REFERENCE@sha256:...)");
        }
        dev.cairn.oci.Manifest m = t.store().readManifest(subject).manifest();
        if (m.layers().isEmpty()) {
            throw new IllegalArgumentException(t.display() + " has no layers to sign");
        }
        int n = threads != null ? threads : Math.min(4, Runtime.getRuntime().availableProcessors());
        List<DmVeritySignatures.LayerSignature> sigs = new java.util.ArrayList<>();
        for (int i = 0; i < m.layers().size(); i++) {
            Descriptor l = m.layers().get(i);
            NodeLayerConversion.RootHash h;
            try (java.io.InputStream in = t.store().openBlob(l)) {
                h = NodeLayerConversion.rootHash(conv, l, in, n);
            }
            for (String skipped : h.skipped()) {
                spec.commandLine().getErr().println("cairn: warning: layer " + i + " (" + l.digest() + "): the " + conv
                        + " conversion skips " + skipped + " (the node will not show it either)");
            }
            sigs.add(new DmVeritySignatures.LayerSignature(l.digest(), h.rootHash(),
                    dev.cairn.signing.RootHashSignature.sign(h.rootHash(), km, true)));
        }
        return sigs;
    }

    private static byte[] der(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode the signer certificate", e);
        }
    }
}
