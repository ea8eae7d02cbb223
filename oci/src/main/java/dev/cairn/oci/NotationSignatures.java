package dev.cairn.oci;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Notary Project signatures ({@code notaryproject/specifications:specs/signature-specification.md},
 * {@code signature-envelope-jws.md}): a JWS in flattened JSON serialization
 * ({@code application/jose+json}) whose payload is {@code {"targetArtifact": <descriptor of the
 * signed manifest>}}, with the signing scheme {@code notary.x509}, the signing time and the
 * {@code crit} list in the protected header and the certificate chain (leaf first) as {@code x5c}
 * in the unprotected header. It is attached as an OCI 1.1 referrer: a manifest with
 * {@code artifactType application/vnd.cncf.notary.signature}, the empty config, the envelope as
 * its one layer, {@code subject} = the signed manifest and the chain's SHA-256 thumbprints as an
 * annotation. This class builds and parses that structure; the signature bytes come from the
 * caller ({@link Signer}) and are checked by the caller against {@link Envelope#signingInput()}.
 */
public final class NotationSignatures {
    public static final String ARTIFACT_TYPE = "application/vnd.cncf.notary.signature";
    public static final String JWS_MEDIA_TYPE = "application/jose+json";
    public static final String PAYLOAD_CONTENT_TYPE = "application/vnd.cncf.notary.payload.v1+json";
    public static final String THUMBPRINTS = "io.cncf.notary.x509chain.thumbprint#S256";
    public static final String SIGNING_SCHEME = "io.cncf.notary.signingScheme";
    public static final String SCHEME_X509 = "notary.x509";
    public static final String SIGNING_TIME = "io.cncf.notary.signingTime";
    public static final String EXPIRY = "io.cncf.notary.expiry";
    public static final String AUTHENTIC_SIGNING_TIME = "io.cncf.notary.authenticSigningTime";
    public static final String SIGNING_AGENT = "io.cncf.notary.signingAgent";
    /** The JWS algorithms the Notary Project allows ({@code signature-specification.md} "Algorithm Selection"). */
    public static final Set<String> ALGORITHMS = Set.of("PS256", "PS384", "PS512", "ES256", "ES384", "ES512");
    /** Largest envelope cairn reads (notation caps signature envelopes at a few MB too). */
    static final int MAX_ENVELOPE = 4 * 1024 * 1024;
    static final int MAX_SIGNATURES = 256;
    private static final Set<String> KNOWN_CRITICAL = Set.of(SIGNING_SCHEME, EXPIRY, AUTHENTIC_SIGNING_TIME);

    private NotationSignatures() {
    }

    /** Produces the signature over the JWS signing input ({@code b64url(protected) "." b64url(payload)}). */
    @FunctionalInterface
    public interface Signer {
        byte[] sign(byte[] signingInput) throws IOException;
    }

    /**
     * A parsed envelope, checked for structure (not for the signature or trust).
     *
     * @param algorithm    the JWS {@code alg} of the protected header
     * @param signingInput the bytes the signature covers
     * @param signature    the raw JWS signature (RSASSA-PSS bytes, or ECDSA {@code r‖s})
     * @param chain        the {@code x5c} certificates, leaf first
     * @param signingTime  {@code io.cncf.notary.signingTime}
     * @param expiry       {@code io.cncf.notary.expiry}, or null
     * @param target       the payload's {@code targetArtifact}
     */
    public record Envelope(String algorithm, byte[] signingInput, byte[] signature, List<X509Certificate> chain,
                           Instant signingTime, Instant expiry, Descriptor target) {
        public Envelope {
            signingInput = signingInput.clone();
            signature = signature.clone();
            chain = List.copyOf(chain);
        }

        @Override
        public byte[] signingInput() {
            return signingInput.clone();
        }

        @Override
        public byte[] signature() {
            return signature.clone();
        }
    }

    /** A signature manifest found for a subject, with its envelope bytes. */
    public record Attached(Descriptor manifest, byte[] envelope) {
        public Attached {
            envelope = envelope.clone();
        }

        @Override
        public byte[] envelope() {
            return envelope.clone();
        }
    }

    /**
     * The payload: {@code {"targetArtifact":{"mediaType":…,"digest":…,"size":…}}} (compact; the
     * target's other descriptor fields, such as a layout's tag annotation, are not signed).
     */
    public static byte[] payload(Descriptor target) {
        Descriptor t = Descriptor.of(target.mediaType(), target.digest(), target.size());
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("targetArtifact", t);
        return OciJson.encode(p);
    }

    /**
     * The protected header, keys sorted as notation writes them: {@code alg}, {@code crit},
     * {@code cty}, {@code io.cncf.notary.signingScheme}, {@code io.cncf.notary.signingTime}
     * (RFC 3339, whole seconds, UTC).
     */
    public static byte[] protectedHeader(String algorithm, Instant signingTime) {
        if (!ALGORITHMS.contains(algorithm)) {
            throw new IllegalArgumentException("not a Notary Project JWS algorithm: " + algorithm);
        }
        Map<String, Object> h = new TreeMap<>();
        h.put("alg", algorithm);
        h.put("crit", List.of(SIGNING_SCHEME));
        h.put("cty", PAYLOAD_CONTENT_TYPE);
        h.put(SIGNING_SCHEME, SCHEME_X509);
        h.put(SIGNING_TIME, signingTime.truncatedTo(ChronoUnit.SECONDS).toString());
        return OciJson.encode(h);
    }

    /**
     * Builds the flattened JWS JSON envelope ({@code payload}, {@code protected}, {@code header},
     * {@code signature}, in that order) signing {@code target} at {@code signingTime}.
     */
    public static byte[] envelope(String algorithm, Descriptor target, Instant signingTime, List<X509Certificate> chain,
                                  String signingAgent, Signer signer) throws IOException {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a notation signature needs the signer certificate (x5c)");
        }
        String p = b64url(payload(target));
        String h = b64url(protectedHeader(algorithm, signingTime));
        byte[] signature = signer.sign((h + "." + p).getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("payload", p);
            g.writeStringField("protected", h);
            g.writeObjectFieldStart("header");
            g.writeArrayFieldStart("x5c");
            for (X509Certificate c : chain) {
                g.writeString(Base64.getEncoder().encodeToString(encoded(c)));
            }
            g.writeEndArray();
            if (signingAgent != null) {
                g.writeStringField(SIGNING_AGENT, signingAgent);
            }
            g.writeEndObject();
            g.writeStringField("signature", b64url(signature));
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    /**
     * Parses and checks an envelope: flattened JSON with {@code x5c}; {@code alg} one of
     * {@link #ALGORITHMS}; {@code cty} the Notary payload type; {@code crit} lists the signing
     * scheme and every other critical header present, and names nothing unknown or absent; the
     * scheme is {@code notary.x509}; the payload names a target descriptor.
     */
    public static Envelope parse(byte[] jws) throws FormatException {
        if (jws.length > MAX_ENVELOPE) {
            throw new FormatException("notation envelope", jws.length, "larger than 4 MiB");
        }
        JsonNode n = OciJson.tree(jws, "notation envelope");
        for (String f : List.of("payload", "protected", "signature")) {
            if (!n.path(f).isTextual()) {
                throw new FormatException("notation envelope " + f, n.path(f), "missing (a flattened JWS JSON serialization is required)");
            }
        }
        String p = n.get("payload").asText();
        String h = n.get("protected").asText();
        byte[] header = b64urlDecode("protected", h);
        byte[] payload = b64urlDecode("payload", p);
        byte[] signature = b64urlDecode("signature", n.get("signature").asText());
        JsonNode ph = OciJson.tree(header, "notation protected header");
        if (!ph.isObject()) {
            throw new FormatException("protected", ph.getNodeType(), "JWS protected header is not a JSON object");
        }
        String alg = ph.path("alg").asText(null);
        if (alg == null || !ALGORITHMS.contains(alg)) {
            throw new FormatException("protected.alg", ph.path("alg"), "not one of " + new java.util.TreeSet<>(ALGORITHMS));
        }
        if (!PAYLOAD_CONTENT_TYPE.equals(ph.path("cty").asText(null))) {
            throw new FormatException("protected.cty", ph.path("cty"), "not " + PAYLOAD_CONTENT_TYPE);
        }
        JsonNode crit = ph.path("crit");
        if (!crit.isArray() || crit.isEmpty()) {
            throw new FormatException("protected.crit", crit, "missing or empty");
        }
        List<String> critical = new ArrayList<>();
        for (JsonNode c : crit) {
            String k = c.asText(null);
            if (k == null || !KNOWN_CRITICAL.contains(k)) {
                throw new FormatException("protected.crit", c, "unknown critical header (refused, as JWS requires)");
            }
            if (!ph.has(k)) {
                throw new FormatException("protected.crit", k, "lists a header the protected header lacks");
            }
            critical.add(k);
        }
        for (String k : KNOWN_CRITICAL) {
            if (ph.has(k) && !critical.contains(k)) {
                throw new FormatException("protected.crit", crit, "does not list " + k);
            }
        }
        String scheme = ph.path(SIGNING_SCHEME).asText(null);
        if (!SCHEME_X509.equals(scheme)) {
            throw new FormatException("protected." + SIGNING_SCHEME, scheme, "only " + SCHEME_X509 + " is supported");
        }
        Instant signingTime = instant(ph, SIGNING_TIME, true);
        Instant expiry = instant(ph, EXPIRY, false);
        JsonNode unprotected = n.path("header");
        if (!unprotected.isObject()) {
            throw new FormatException("header", unprotected, "unprotected header with x5c is missing");
        }
        for (Iterator<String> it = unprotected.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (ph.has(k)) {
                throw new FormatException("header." + k, k, "appears in both the protected and the unprotected header");
            }
        }
        JsonNode x5c = unprotected.path("x5c");
        if (!x5c.isArray() || x5c.isEmpty()) {
            throw new FormatException("header.x5c", x5c, "missing or empty certificate chain");
        }
        List<X509Certificate> chain = new ArrayList<>();
        for (JsonNode c : x5c) {
            byte[] der;
            try {
                der = Base64.getDecoder().decode(c.asText(""));
            } catch (IllegalArgumentException e) {
                throw new FormatException("header.x5c", c.asText(""), "not base64");
            }
            chain.add(certificate(der, "header.x5c[" + chain.size() + "]"));
        }
        JsonNode pn = OciJson.tree(payload, "notation payload");
        JsonNode t = pn.path("targetArtifact");
        if (!t.isObject()) {
            throw new FormatException("payload.targetArtifact", t, "missing");
        }
        Descriptor target = OciJson.decode(OciJson.encode(t), Descriptor.class, "payload.targetArtifact");
        return new Envelope(alg, (h + "." + p).getBytes(StandardCharsets.US_ASCII), signature, chain, signingTime, expiry, target);
    }

    /** The thumbprint annotation value: a JSON array of the lowercase hex SHA-256 of each certificate, in order. */
    public static String thumbprints(List<X509Certificate> chain) {
        List<String> t = new ArrayList<>();
        for (X509Certificate c : chain) {
            t.add(HexFormat.of().formatHex(Digest.newSha256().digest(encoded(c))));
        }
        return new String(OciJson.encode(t), StandardCharsets.UTF_8);
    }

    /**
     * Attaches {@code envelope} to {@code subject} as a referrer (blobs first: the empty config and
     * the envelope, then the manifest by digest). {@code created} becomes
     * {@code org.opencontainers.image.created}.
     */
    public static Descriptor attach(ArtifactStore store, Descriptor subject, byte[] envelope, List<X509Certificate> chain,
                                    Instant created) throws IOException {
        Descriptor layer = store.putBlob(envelope, JWS_MEDIA_TYPE);
        Map<String, String> ann = new LinkedHashMap<>();
        ann.put(THUMBPRINTS, thumbprints(chain));
        ann.put(MediaTypes.CREATED, created.truncatedTo(ChronoUnit.SECONDS).toString());
        return store.attachReferrer(subject, ARTIFACT_TYPE, List.of(layer), ann);
    }

    /**
     * The notation signatures referring to {@code subject}: referrers of artifact type
     * {@value #ARTIFACT_TYPE} (or the legacy config media type) whose manifest really names
     * {@code subject}, with their JWS envelope (COSE envelopes are skipped).
     */
    public static List<Attached> read(ArtifactStore store, Digest subject) throws IOException {
        List<Attached> out = new ArrayList<>();
        for (ManifestBlob mb : store.referrersOfType(subject, ARTIFACT_TYPE, MAX_SIGNATURES, "notation signatures")) {
            Manifest m = mb.manifest();
            for (Descriptor l : m.layers()) {
                if (JWS_MEDIA_TYPE.equals(l.mediaType())) {
                    out.add(new Attached(mb.descriptor(), store.readBlob(l, MAX_ENVELOPE)));
                    break;
                }
            }
        }
        return out;
    }

    private static Instant instant(JsonNode ph, String key, boolean required) throws FormatException {
        JsonNode v = ph.path(key);
        if (v.isMissingNode()) {
            if (required) {
                throw new FormatException("protected." + key, null, "missing");
            }
            return null;
        }
        try {
            return java.time.OffsetDateTime.parse(v.asText("")).toInstant();
        } catch (DateTimeParseException e) {
            throw new FormatException("protected." + key, v.asText(""), "not an RFC 3339 time");
        }
    }

    private static X509Certificate certificate(byte[] der, String field) throws FormatException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | ClassCastException e) {
            throw new FormatException(field, der.length + " bytes", "not an X.509 certificate: " + e.getMessage());
        }
    }

    static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode certificate " + c.getSubjectX500Principal(), e);
        }
    }

    static String b64url(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static byte[] b64urlDecode(String field, String s) throws FormatException {
        if (s.indexOf('=') >= 0) {
            throw new FormatException(field, s.length() > 40 ? s.substring(0, 40) + "…" : s, "JWS base64url must not be padded");
        }
        try {
            return Base64.getUrlDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new FormatException(field, s.length() > 40 ? s.substring(0, 40) + "…" : s, "not base64url");
        }
    }
}
