package dev.cairn.oci;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-layer dm-verity root-hash signatures as the Notary Project's dm-verity proposal ships them
 * (notation {@code specs/proposals/dm-verity.md}): a referrer of artifact type
 * {@value #ARTIFACT_TYPE} with an empty config and one {@value #LAYER_MEDIA_TYPE} layer per image
 * layer, in the image's layer order, each a detached DER PKCS#7 over the layer's root hash in
 * lower-case hex (what the kernel checks for {@code root_hash_sig_key_desc}) and annotated with
 * the image layer's digest and the root hash. The root hash is the one the node computes over its
 * own conversion of the layer; {@link #CONVERSION} names that conversion (cairn's addition, so a
 * verifier knows what to recompute).
 */
public final class DmVeritySignatures {
    public static final String ARTIFACT_TYPE = "application/vnd.cncf.notary.signature.dm-verity";
    public static final String LAYER_MEDIA_TYPE = "application/pkcs7-signature";
    public static final String LAYER_DIGEST = "io.cncf.notary.layer.digest";
    public static final String ROOT_HASH = "io.cncf.notary.dm-verity.root-hash";
    public static final String SIGNATURE_MARKER = "io.cncf.notary.dm-verity.signature";
    /** Which node-side conversion the root hashes are of (tardev, containerd-erofs, ...). */
    public static final String CONVERSION = "dev.cairn.dm-verity.conversion";
    /** Largest PKCS#7 blob read back: a signature with a certificate chain stays far below. */
    static final int MAX_SIGNATURE = 256 * 1024;
    static final int MAX_LAYERS = 4096;

    private DmVeritySignatures() {
    }

    /** One image layer's signature: its digest, the root hash of its conversion and the PKCS#7 (DER). */
    public record LayerSignature(Digest layer, String rootHash, byte[] pkcs7) {
        public LayerSignature {
            rootHash = rootHash.toLowerCase(Locale.ROOT);
            if (!rootHash.matches("[0-9a-f]{64}|[0-9a-f]{128}")) {
                throw new IllegalArgumentException("not a hex root hash: " + rootHash);
            }
            pkcs7 = pkcs7.clone();
        }

        @Override
        public byte[] pkcs7() {
            return pkcs7.clone();
        }
    }

    /** A referrer read back: its manifest, the conversion it names (or null) and its layer signatures in order. */
    public record Attached(Descriptor manifest, String conversion, List<LayerSignature> layers) {
        public Attached {
            layers = List.copyOf(layers);
        }
    }

    /**
     * Attaches {@code signatures} (one per image layer, in order) to {@code subject} as one referrer
     * (blobs first, then the manifest by digest).
     */
    public static Descriptor attach(ArtifactStore store, Descriptor subject, List<LayerSignature> signatures, String conversion,
                                    Instant created) throws IOException {
        if (signatures.isEmpty() || signatures.size() > MAX_LAYERS) {
            throw new IllegalArgumentException("a dm-verity referrer signs 1 to " + MAX_LAYERS + " layers, not " + signatures.size());
        }
        List<Descriptor> layers = new ArrayList<>();
        for (int i = 0; i < signatures.size(); i++) {
            LayerSignature s = signatures.get(i);
            Descriptor blob = store.putBlob(s.pkcs7(), LAYER_MEDIA_TYPE);
            Map<String, String> ann = new LinkedHashMap<>();
            ann.put(LAYER_DIGEST, s.layer().toString());
            ann.put(ROOT_HASH, s.rootHash());
            ann.put(MediaTypes.TITLE, "layer-" + i + ".pkcs7.sig");
            layers.add(blob.withAnnotations(ann));
        }
        Map<String, String> ann = new LinkedHashMap<>();
        ann.put(SIGNATURE_MARKER, "true");
        ann.put(CONVERSION, conversion);
        ann.put(MediaTypes.CREATED, created.truncatedTo(ChronoUnit.SECONDS).toString());
        return store.attachReferrer(subject, ARTIFACT_TYPE, layers, ann);
    }

    /** The dm-verity signature referrers of {@code subject} whose manifest really names it. */
    public static List<Attached> read(ArtifactStore store, Digest subject) throws IOException {
        List<Attached> out = new ArrayList<>();
        for (ManifestBlob mb : store.referrersOfType(subject, ARTIFACT_TYPE, 64, "dm-verity signature referrers")) {
            Manifest m = mb.manifest();
            if (m.layers().size() > MAX_LAYERS) {
                throw new FormatException("layers", m.layers().size(), "dm-verity referrer " + mb.descriptor().digest() + " has too many layers");
            }
            List<LayerSignature> sigs = new ArrayList<>();
            for (Descriptor l : m.layers()) {
                if (!LAYER_MEDIA_TYPE.equals(l.mediaType())) {
                    throw new FormatException("mediaType", l.mediaType(), "dm-verity referrer " + mb.descriptor().digest()
                            + " has a layer that is not " + LAYER_MEDIA_TYPE);
                }
                String digest = l.annotations().get(LAYER_DIGEST);
                String root = l.annotations().get(ROOT_HASH);
                if (digest == null || root == null) {
                    throw new FormatException("annotations", null, "dm-verity signature layer " + l.digest()
                            + " lacks " + LAYER_DIGEST + " or " + ROOT_HASH);
                }
                try {
                    sigs.add(new LayerSignature(Digest.of(digest), root, store.readBlob(l, MAX_SIGNATURE)));
                } catch (IllegalArgumentException e) {
                    throw new FormatException(ROOT_HASH, root, "dm-verity signature layer " + l.digest() + ": " + e.getMessage());
                }
            }
            out.add(new Attached(mb.descriptor(), m.annotations().get(CONVERSION), sigs));
        }
        return out;
    }
}
