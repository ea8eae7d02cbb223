package dev.cairn.oci;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.io.FormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * cosign's tag-based signatures ({@code cosign:specs/SIGNATURE_SPEC.md}): for an image manifest
 * with digest {@code sha256:H}, the tag {@code sha256-H.sig} names an OCI manifest whose layers
 * are simple-signing payloads ({@code application/vnd.dev.cosign.simplesigning.v1+json}), each
 * with its base64 signature (and optionally the signer certificate) as layer annotations. The
 * payload names the signed manifest digest; a verifier checks the signature over the payload
 * bytes and that digest. This class handles the structure; signatures come from the caller.
 */
public final class CosignSignatures {
    public static final String PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
    public static final String SIGNATURE = "dev.cosignproject.cosign/signature";
    public static final String CERTIFICATE = "dev.sigstore.cosign/certificate";
    public static final String TYPE = "cosign container image signature";
    static final int MAX_PAYLOAD = 64 * 1024;
    static final int MAX_SIGNATURES = 256;

    private CosignSignatures() {
    }

    /** One signature: the payload bytes, the base64 signature and the signer certificate (PEM, or null). */
    public record Signature(byte[] payload, String base64Signature, String certificatePem) {
        public Signature {
            payload = payload.clone();
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }
    }

    /** {@code sha256-<hex>.sig}. */
    public static String tag(Digest subject) {
        return subject.algorithm() + "-" + subject.hex() + ".sig";
    }

    /**
     * The simple-signing payload as cosign writes it (compact JSON, this key order):
     * {@code {"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":T},"optional":null}}.
     */
    public static byte[] payload(String dockerReference, Digest subject) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeObjectFieldStart("critical");
            g.writeObjectFieldStart("identity");
            g.writeStringField("docker-reference", dockerReference);
            g.writeEndObject();
            g.writeObjectFieldStart("image");
            g.writeStringField("docker-manifest-digest", subject.toString());
            g.writeEndObject();
            g.writeStringField("type", TYPE);
            g.writeEndObject();
            g.writeNullField("optional");
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * The manifest digest a payload vouches for, after checking its type; a payload that is not a
     * cosign simple-signing claim is a FormatException.
     */
    public static Digest signedDigest(byte[] payload) throws FormatException {
        if (payload.length > MAX_PAYLOAD) {
            throw new FormatException("cosign payload", payload.length, "larger than 64 KiB");
        }
        JsonNode n = OciJson.tree(payload, "cosign payload");
        if (!TYPE.equals(n.path("critical").path("type").asText(null))) {
            throw new FormatException("cosign payload critical.type", n.path("critical").path("type"), "not '" + TYPE + "'");
        }
        return Digest.parse("critical.image.docker-manifest-digest",
                n.path("critical").path("image").path("docker-manifest-digest").asText(""));
    }

    /**
     * Adds a signature to {@code subject}'s signature manifest (creating it, or
     * appending a layer as cosign does for a second signature; the same payload and signature
     * twice is stored once) and tags it {@link #tag}.
     */
    public static Descriptor attach(OciLayout layout, Digest subject, Signature s) throws IOException {
        return attach(ArtifactStore.of(layout), subject, s);
    }

    /** {@link #attach(OciLayout, Digest, Signature)} in a layout or a registry repository. */
    public static Descriptor attach(ArtifactStore store, Digest subject, Signature s) throws IOException {
        List<Descriptor> layers = new ArrayList<>();
        Optional<Descriptor> existing = store.find(tag(subject));
        if (existing.isPresent()) {
            layers.addAll(store.readManifest(existing.get()).manifest().layers());
        }
        Map<String, String> ann = new LinkedHashMap<>();
        ann.put(SIGNATURE, s.base64Signature());
        if (s.certificatePem() != null) {
            ann.put(CERTIFICATE, s.certificatePem());
        }
        Descriptor layer = store.putBlob(s.payload(), PAYLOAD_MEDIA_TYPE).withAnnotations(ann);
        if (layers.stream().noneMatch(l -> l.digest().equals(layer.digest()) && java.util.Objects.equals(l.annotations(), layer.annotations()))) {
            layers.add(layer);
        }
        if (layers.size() > MAX_SIGNATURES) {
            throw new IllegalArgumentException("more than " + MAX_SIGNATURES + " signatures on " + subject);
        }
        // cosign's generated config: not read by verifiers, but a valid image config
        Map<String, Object> rootfs = new LinkedHashMap<>();
        rootfs.put("type", "layers");
        rootfs.put("diff_ids", layers.stream().map(l -> l.digest().toString()).toList());
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", "");
        config.put("os", "");
        config.put("config", Map.of());
        config.put("rootfs", rootfs);
        Descriptor cfg = store.putBlob(OciJson.encode(config), MediaTypes.CONFIG);
        Manifest m = Manifest.of(null, cfg, layers, null, null);
        return store.putManifest(m, tag(subject));
    }

    /** The signatures stored for {@code subject} (empty when there is no {@code .sig} tag). */
    public static List<Signature> read(OciLayout store, Digest subject) throws IOException {
        return read(ArtifactStore.of(store), subject);
    }

    /** {@link #read(OciLayout, Digest)} from a layout or a registry repository. */
    public static List<Signature> read(ArtifactStore store, Digest subject) throws IOException {
        Optional<Descriptor> sig = store.find(tag(subject));
        if (sig.isEmpty()) {
            return List.of();
        }
        List<Signature> out = new ArrayList<>();
        for (Descriptor l : store.readManifest(sig.get()).manifest().layers()) {
            if (!PAYLOAD_MEDIA_TYPE.equals(l.mediaType()) || l.annotations() == null || !l.annotations().containsKey(SIGNATURE)) {
                continue;
            }
            out.add(new Signature(store.readBlob(l, MAX_PAYLOAD), l.annotations().get(SIGNATURE), l.annotations().get(CERTIFICATE)));
        }
        return out;
    }
}
