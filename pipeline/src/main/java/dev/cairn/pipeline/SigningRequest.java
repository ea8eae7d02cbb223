package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@code OUT/signing-request.json}: the signatures an unsigned build (or one with deferred key
 * roles) still needs, for a signing station that holds only keys. Each entry carries the exact
 * bytes to sign, never an image: CMS signatures without signed attributes sign their content (a
 * root hash, an IPE policy, the build manifest: bytes to kilobytes), an Authenticode signature
 * signs the DER of its signed attributes (which carry the digest of the SpcIndirectDataContent,
 * which carries the PE image's digest), a PCR policy signature signs the 32-byte TPM2_PolicyPCR
 * digest, a cosign signature signs its simple-signing payload. Format: docs/build-release.md.
 *
 * @param imageName      the spec's image name
 * @param imageVersion   the spec's image version
 * @param round          which round of signing this is (1 first); a signature of a later round covers one of an earlier round
 * @param unsigned       the build was made with {@code --unsigned} (every role deferred) rather than per-role {@code defer}
 * @param manifestSha256 SHA-256 of {@code OUT/manifest.json} as this round wrote it: binds the request to OUT's state
 * @param signatures     what to sign, in build order
 */
public record SigningRequest(String imageName, String imageVersion, int round, boolean unsigned, String manifestSha256,
                             List<Entry> signatures) {
    public static final String MEDIA_TYPE = "application/vnd.cairn.signing-request.v1+json";
    public static final String FILE = "signing-request.json";
    /** A request is kilobytes; anything near this is not one. */
    static final int MAX_BYTES = 1024 * 1024;
    static final int MAX_ENTRIES = 4096;
    /** The kinds of signature a station makes; every one is "sign {@code data} with {@code algorithm}". */
    public static final Set<String> KINDS = Set.of("cms", "authenticode", "pcr-policy", "cosign");

    public SigningRequest {
        Objects.requireNonNull(imageName, "imageName");
        Objects.requireNonNull(imageVersion, "imageVersion");
        Objects.requireNonNull(manifestSha256, "manifestSha256");
        signatures = List.copyOf(signatures);
    }

    /**
     * One signature to make.
     *
     * @param id          unique in the request: {@code roothash}, {@code ipe-policy}, {@code pcr11:sha256:enter-initrd},
     *                    {@code authenticode:NAME.efi}, {@code cosign}, {@code manifest}
     * @param role        the key role under {@code keys:} in the spec whose key signs (a station signs with {@code --role})
     * @param kind        {@code cms}, {@code authenticode}, {@code pcr-policy} or {@code cosign}
     * @param description for the person at the station
     * @param artifact    the file in OUT the signature goes into
     * @param algorithm   JCA signature name: {@code SHA256withRSA} (RSASSA-PKCS1-v1_5) or {@code SHA256withECDSA}
     * @param certificate the certificate whose key must sign (embedded in the artifacts as it is)
     * @param data        the exact bytes to sign (the algorithm hashes them)
     */
    public record Entry(String id, String role, String kind, String description, String artifact, String algorithm,
                        X509Certificate certificate, byte[] data) {
        public Entry {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(certificate, "certificate");
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        public String dataSha256() {
            return sha256(data);
        }

        public String certificateSha256() {
            try {
                return sha256(certificate.getEncoded());
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("cannot encode a certificate", e);
            }
        }
    }

    /** The entries a station holding {@code role}'s key signs. */
    public List<Entry> forRole(String role) {
        return signatures.stream().filter(e -> e.role().equals(role)).toList();
    }

    /** The roles the request asks signatures of, in first-use order. */
    public List<String> roles() {
        return signatures.stream().map(Entry::role).distinct().toList();
    }

    public Entry entry(String id) {
        return signatures.stream().filter(e -> e.id().equals(id)).findFirst().orElse(null);
    }

    public byte[] encode() {
        ObjectNode r = ManifestJson.object();
        r.put("mediaType", MEDIA_TYPE);
        ObjectNode image = r.putObject("image");
        image.put("name", imageName);
        image.put("version", imageVersion);
        r.put("round", round);
        r.put("unsigned", unsigned);
        r.putObject("state").put("manifestSha256", manifestSha256);
        ArrayNode a = r.putArray("signatures");
        for (Entry e : signatures) {
            ObjectNode n = a.addObject();
            n.put("id", e.id());
            n.put("role", e.role());
            n.put("kind", e.kind());
            n.put("description", e.description());
            n.put("artifact", e.artifact());
            n.put("algorithm", e.algorithm());
            n.put("subject", e.certificate().getSubjectX500Principal().getName());
            n.put("certificateSha256", e.certificateSha256());
            try {
                n.put("certificate", Base64.getEncoder().encodeToString(e.certificate().getEncoded()));
            } catch (CertificateEncodingException x) {
                throw new IllegalStateException("cannot encode a certificate", x);
            }
            n.put("dataSha256", e.dataSha256());
            n.put("data", Base64.getEncoder().encodeToString(e.data));
        }
        return ManifestJson.encode(r);
    }

    /** Parses and checks a request: every field present and well-formed, digests matching what they digest. */
    public static SigningRequest decode(byte[] bytes, Object where) throws PipelineException {
        if (bytes.length > MAX_BYTES) {
            throw bad(where, "is " + bytes.length + " bytes; a signing request is kilobytes (at most " + MAX_BYTES + ")");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw bad(where, "not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!(root instanceof ObjectNode) || !MEDIA_TYPE.equals(root.path("mediaType").asText())) {
            throw bad(where, "not a cairn signing request (mediaType " + MEDIA_TYPE + ")");
        }
        String name = text(root.path("image"), "name", where, "image");
        String version = text(root.path("image"), "version", where, "image");
        JsonNode roundNode = root.path("round");
        if (!roundNode.isInt() || roundNode.asInt() < 1 || roundNode.asInt() > 16) {
            throw bad(where, "round: must be a whole number from 1 to 16");
        }
        if (!root.path("unsigned").isBoolean()) {
            throw bad(where, "unsigned: must be true or false");
        }
        String state = hex(root.path("state"), "manifestSha256", where, "state");
        JsonNode list = root.path("signatures");
        if (!list.isArray() || list.isEmpty() || list.size() > MAX_ENTRIES) {
            throw bad(where, "signatures: must be a list of 1 to " + MAX_ENTRIES + " entries");
        }
        List<Entry> entries = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode n = list.get(i);
            String at = "signatures[" + i + "]";
            String id = text(n, "id", where, at);
            if (!ids.add(id)) {
                throw bad(where, at + ".id: '" + id + "' appears twice");
            }
            String kind = text(n, "kind", where, at);
            if (!KINDS.contains(kind)) {
                throw bad(where, at + " (" + id + ").kind: unknown kind '" + kind + "' (this cairn signs " + String.join(", ",
                        KINDS.stream().sorted().toList()) + ")");
            }
            String alg = text(n, "algorithm", where, at);
            if (!dev.cairn.signing.DeferredSignatures.ALGORITHMS.contains(alg)) {
                throw bad(where, at + " (" + id + ").algorithm: unknown algorithm '" + alg + "'");
            }
            X509Certificate cert;
            try {
                byte[] der = base64(n, "certificate", where, at);
                cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
            } catch (CertificateException e) {
                throw bad(where, at + " (" + id + ").certificate: not an X.509 certificate");
            }
            byte[] data = base64(n, "data", where, at);
            Entry e = new Entry(id, text(n, "role", where, at), kind, text(n, "description", where, at), text(n, "artifact", where, at),
                    alg, cert, data);
            if (!e.certificateSha256().equals(hex(n, "certificateSha256", where, at))) {
                throw bad(where, at + " (" + id + ").certificateSha256 is not the SHA-256 of its certificate (edited?)");
            }
            if (!e.dataSha256().equals(hex(n, "dataSha256", where, at))) {
                throw bad(where, at + " (" + id + ").dataSha256 is not the SHA-256 of its data (edited or truncated?)");
            }
            entries.add(e);
        }
        return new SigningRequest(name, version, roundNode.asInt(), root.path("unsigned").asBoolean(), state, entries);
    }

    static String text(JsonNode n, String field, Object where, String at) throws PipelineException {
        JsonNode v = n.path(field);
        if (!v.isTextual() || v.asText().isEmpty() || v.asText().length() > 4096) {
            throw bad(where, at + "." + field + ": missing or not a string");
        }
        return v.asText();
    }

    static String hex(JsonNode n, String field, Object where, String at) throws PipelineException {
        String s = text(n, field, where, at);
        if (!s.matches("[0-9a-f]{64}")) {
            throw bad(where, at + "." + field + ": not a SHA-256 digest in lower-case hex");
        }
        return s;
    }

    static byte[] base64(JsonNode n, String field, Object where, String at) throws PipelineException {
        JsonNode v = n.path(field);
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw bad(where, at + "." + field + ": missing or not a string");
        }
        try {
            return Base64.getDecoder().decode(v.asText());
        } catch (IllegalArgumentException e) {
            throw bad(where, at + "." + field + ": not base64 (truncated?)");
        }
    }

    static PipelineException bad(Object where, String message) {
        return new PipelineException(PipelineException.Kind.BAD_INPUT, where + ": " + message);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing", e);
        }
    }
}
