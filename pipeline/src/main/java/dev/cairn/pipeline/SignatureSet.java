package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@code signatures.json}: what a signing station answers to a {@link SigningRequest}, for one key
 * role. It names the request it answers by the SHA-256 of the request file's bytes, so an answer
 * to an edited request, or to another build's, is refused when injected.
 *
 * @param requestSha256 SHA-256 of the {@code signing-request.json} bytes that were signed
 * @param role          the role whose entries these are
 * @param signatures    one per entry of that role
 */
public record SignatureSet(String requestSha256, String role, List<Signed> signatures) {
    public static final String MEDIA_TYPE = "application/vnd.cairn.signatures.v1+json";
    static final int MAX_BYTES = 1024 * 1024;

    public SignatureSet {
        Objects.requireNonNull(requestSha256, "requestSha256");
        Objects.requireNonNull(role, "role");
        signatures = List.copyOf(signatures);
    }

    /**
     * @param id                the request entry's id
     * @param certificateSha256 the signing key's certificate (the request's for the entry)
     * @param algorithm         as the request asked
     * @param dataSha256        SHA-256 of the bytes signed (the request's for the entry)
     * @param signature         the signature value (RSA: modulus-size bytes; ECDSA: DER)
     */
    public record Signed(String id, String certificateSha256, String algorithm, String dataSha256, byte[] signature) {
        public Signed {
            signature = signature.clone();
        }

        @Override
        public byte[] signature() {
            return signature.clone();
        }
    }

    public byte[] encode() {
        ObjectNode r = ManifestJson.object();
        r.put("mediaType", MEDIA_TYPE);
        r.put("requestSha256", requestSha256);
        r.put("role", role);
        ArrayNode a = r.putArray("signatures");
        for (Signed s : signatures) {
            ObjectNode n = a.addObject();
            n.put("id", s.id());
            n.put("certificateSha256", s.certificateSha256());
            n.put("algorithm", s.algorithm());
            n.put("dataSha256", s.dataSha256());
            n.put("signature", Base64.getEncoder().encodeToString(s.signature));
        }
        return ManifestJson.encode(r);
    }

    public static SignatureSet decode(byte[] bytes, Object where) throws PipelineException {
        if (bytes.length > MAX_BYTES) {
            throw SigningRequest.bad(where, "is " + bytes.length + " bytes; a signature set is kilobytes");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw SigningRequest.bad(where, "not JSON (truncated?): " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(root instanceof ObjectNode) || !MEDIA_TYPE.equals(root.path("mediaType").asText())) {
            throw SigningRequest.bad(where, "not a cairn signature set (mediaType " + MEDIA_TYPE + ")");
        }
        String req = SigningRequest.hex(root, "requestSha256", where, "");
        String role = SigningRequest.text(root, "role", where, "");
        JsonNode list = root.path("signatures");
        if (!list.isArray() || list.isEmpty() || list.size() > SigningRequest.MAX_ENTRIES) {
            throw SigningRequest.bad(where, "signatures: must be a list of 1 to " + SigningRequest.MAX_ENTRIES + " entries");
        }
        List<Signed> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode n = list.get(i);
            String at = "signatures[" + i + "]";
            String id = SigningRequest.text(n, "id", where, at);
            if (!ids.add(id)) {
                throw SigningRequest.bad(where, at + ".id: '" + id + "' appears twice");
            }
            byte[] sig = SigningRequest.base64(n, "signature", where, at);
            if (sig.length == 0 || sig.length > 2048) {
                throw SigningRequest.bad(where, at + " (" + id + ").signature: " + sig.length + " bytes is no signature");
            }
            out.add(new Signed(id, SigningRequest.hex(n, "certificateSha256", where, at), SigningRequest.text(n, "algorithm", where, at),
                    SigningRequest.hex(n, "dataSha256", where, at), sig));
        }
        return new SignatureSet(req, role, out);
    }
}
