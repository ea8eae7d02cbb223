package dev.cairn.oci;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sigstore bundles v0.3 ({@code sigstore/protobuf-specs:protos/sigstore_bundle.proto}, JSON
 * encoding with standard base64 for bytes) as OCI 1.1 referrers, the way cosign 3 stores them
 * ({@code cosign:pkg/oci/remote/write.go} {@code WriteReferrer}): a manifest with
 * {@code artifactType application/vnd.dev.sigstore.bundle.v0.3+json}, the empty config, the bundle
 * JSON as its one layer of the same type, and {@code subject} = the signed manifest.
 *
 * <p>cairn writes a {@code messageSignature} bundle: the message is the signed manifest's bytes, so
 * {@code messageDigest} (SHA2_256) is the manifest digest and the signature is ECDSA (DER) or RSA
 * PKCS#1 v1.5 with SHA-256 over those bytes; {@code verificationMaterial.certificate} holds the
 * signer certificate. There is no transparency-log entry and no timestamp (offline, key-based
 * signing): verifiers must be configured to need none.
 */
public final class SigstoreBundles {
    public static final String MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
    /** cosign's manifest annotation naming the bundle content ({@code dsse-envelope} for its attestations). */
    public static final String CONTENT_ANNOTATION = "dev.sigstore.bundle.content";
    public static final String MESSAGE_SIGNATURE = "message-signature";
    static final int MAX_BUNDLE = 1024 * 1024;
    static final int MAX_SIGNATURES = 256;

    private SigstoreBundles() {
    }

    /**
     * A parsed message-signature bundle.
     *
     * @param certificate   the signer certificate ({@code certificate} or the first of
     *                      {@code x509CertificateChain}), or null for a {@code publicKey} hint
     * @param publicKeyHint the {@code publicKey.hint}, or null
     * @param messageDigest the digest the bundle claims for the message
     * @param signature     the raw signature over the message
     */
    public record Bundle(X509Certificate certificate, String publicKeyHint, Digest messageDigest, byte[] signature) {
        public Bundle {
            signature = signature.clone();
        }

        @Override
        public byte[] signature() {
            return signature.clone();
        }
    }

    /** A bundle referrer found for a subject, with the bundle bytes. */
    public record Attached(Descriptor manifest, byte[] bundle) {
        public Attached {
            bundle = bundle.clone();
        }

        @Override
        public byte[] bundle() {
            return bundle.clone();
        }
    }

    /**
     * The bundle JSON (keys in protobuf field order): {@code mediaType}, {@code verificationMaterial}
     * {@code {certificate{rawBytes}, tlogEntries[], timestampVerificationData{rfc3161Timestamps[]}}},
     * {@code messageSignature{messageDigest{algorithm "SHA2_256", digest}, signature}}.
     */
    public static byte[] bundle(X509Certificate certificate, Digest messageDigest, byte[] signature) {
        if (!messageDigest.algorithm().equals("sha256")) {
            throw new IllegalArgumentException("cairn writes SHA2_256 message digests, not " + messageDigest.algorithm());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("mediaType", MEDIA_TYPE);
            g.writeObjectFieldStart("verificationMaterial");
            g.writeObjectFieldStart("certificate");
            g.writeStringField("rawBytes", Base64.getEncoder().encodeToString(NotationSignatures.encoded(certificate)));
            g.writeEndObject();
            g.writeArrayFieldStart("tlogEntries");
            g.writeEndArray();
            g.writeObjectFieldStart("timestampVerificationData");
            g.writeArrayFieldStart("rfc3161Timestamps");
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndObject();
            g.writeObjectFieldStart("messageSignature");
            g.writeObjectFieldStart("messageDigest");
            g.writeStringField("algorithm", "SHA2_256");
            g.writeStringField("digest", Base64.getEncoder().encodeToString(HexFormat.of().parseHex(messageDigest.hex())));
            g.writeEndObject();
            g.writeStringField("signature", Base64.getEncoder().encodeToString(signature));
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Parses a v0.3 message-signature bundle; a DSSE bundle, another media type or a malformed
     * field is a FormatException naming it.
     */
    public static Bundle parse(byte[] json) throws FormatException {
        if (json.length > MAX_BUNDLE) {
            throw new FormatException("sigstore bundle", json.length, "larger than 1 MiB");
        }
        JsonNode n = OciJson.tree(json, "sigstore bundle");
        String mt = n.path("mediaType").asText(null);
        if (!MEDIA_TYPE.equals(mt)) {
            throw new FormatException("mediaType", mt, "not " + MEDIA_TYPE);
        }
        JsonNode vm = n.path("verificationMaterial");
        X509Certificate cert = null;
        String hint = null;
        if (vm.has("certificate")) {
            cert = certificate(base64(vm.path("certificate").path("rawBytes"), "verificationMaterial.certificate.rawBytes"),
                    "verificationMaterial.certificate.rawBytes");
        } else if (vm.path("x509CertificateChain").path("certificates").isArray()
                && !vm.path("x509CertificateChain").path("certificates").isEmpty()) {
            String f = "verificationMaterial.x509CertificateChain.certificates[0].rawBytes";
            cert = certificate(base64(vm.path("x509CertificateChain").path("certificates").get(0).path("rawBytes"), f), f);
        } else if (vm.path("publicKey").path("hint").isTextual()) {
            hint = vm.path("publicKey").path("hint").asText();
        } else {
            throw new FormatException("verificationMaterial", vm, "has no certificate, certificate chain or public key hint");
        }
        if (n.has("dsseEnvelope")) {
            throw new FormatException("dsseEnvelope", "present", "DSSE bundles are not supported by cairn oci verify (messageSignature only)");
        }
        JsonNode ms = n.path("messageSignature");
        if (!ms.isObject()) {
            throw new FormatException("messageSignature", ms, "missing");
        }
        String alg = ms.path("messageDigest").path("algorithm").asText(null);
        if (!"SHA2_256".equals(alg)) {
            throw new FormatException("messageSignature.messageDigest.algorithm", alg, "only SHA2_256 is supported");
        }
        byte[] digest = base64(ms.path("messageDigest").path("digest"), "messageSignature.messageDigest.digest");
        if (digest.length != 32) {
            throw new FormatException("messageSignature.messageDigest.digest", digest.length + " bytes", "a SHA-256 digest has 32 bytes");
        }
        byte[] sig = base64(ms.path("signature"), "messageSignature.signature");
        if (sig.length == 0) {
            throw new FormatException("messageSignature.signature", "", "empty");
        }
        return new Bundle(cert, hint, Digest.sha256(digest), sig);
    }

    /**
     * Attaches {@code bundle} to {@code subject} as a referrer, as cosign 3 does; {@code created}
     * becomes {@code org.opencontainers.image.created}.
     */
    public static Descriptor attach(ArtifactStore store, Descriptor subject, byte[] bundle, Instant created) throws IOException {
        Descriptor layer = store.putBlob(bundle, MEDIA_TYPE);
        Map<String, String> ann = new LinkedHashMap<>();
        ann.put(CONTENT_ANNOTATION, MESSAGE_SIGNATURE);
        ann.put(MediaTypes.CREATED, created.truncatedTo(ChronoUnit.SECONDS).toString());
        return store.attachReferrer(subject, MEDIA_TYPE, List.of(layer), ann);
    }

    /** The bundle referrers of {@code subject} whose manifest really names it, with their bundle bytes. */
    public static List<Attached> read(ArtifactStore store, Digest subject) throws IOException {
        List<Attached> out = new ArrayList<>();
        for (ManifestBlob mb : store.referrersOfType(subject, MEDIA_TYPE, MAX_SIGNATURES, "sigstore bundles")) {
            Manifest m = mb.manifest();
            for (Descriptor l : m.layers()) {
                if (MEDIA_TYPE.equals(l.mediaType())) {
                    out.add(new Attached(mb.descriptor(), store.readBlob(l, MAX_BUNDLE)));
                    break;
                }
            }
        }
        return out;
    }

    private static byte[] base64(JsonNode v, String field) throws FormatException {
        if (!v.isTextual()) {
            throw new FormatException(field, v, "missing");
        }
        try {
            return Base64.getDecoder().decode(v.asText());
        } catch (IllegalArgumentException e) {
            throw new FormatException(field, v.asText(), "not base64");
        }
    }

    private static X509Certificate certificate(byte[] der, String field) throws FormatException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | ClassCastException e) {
            throw new FormatException(field, der.length + " bytes", "not an X.509 certificate: " + e.getMessage());
        }
    }
}
