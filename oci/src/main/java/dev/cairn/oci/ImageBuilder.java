package dev.cairn.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Adds layers and artifacts to images in a layout. Configs are written with a fixed key order and
 * carry a {@code created} time only when the caller gives one (from {@code SOURCE_DATE_EPOCH});
 * an existing config is extended, its other fields kept as they were.
 */
public final class ImageBuilder {
    private ImageBuilder() {
    }

    /** What an image gets when it is created: platform and the optional creation time. */
    public record ImageDefaults(String os, String architecture, Instant created) {
        public ImageDefaults {
            if (os == null || os.isEmpty() || architecture == null || architecture.isEmpty()) {
                throw new IllegalArgumentException("os and architecture are required");
            }
        }
    }

    /** The manifest (tagged), config and layer of an image after {@link #appendLayer}. */
    public record LayerResult(Descriptor manifest, Descriptor config, Descriptor layer, int layerCount, boolean created) {
    }

    /**
     * Appends {@code layer} (already stored in the layout) to the image tagged {@code tag}, creating
     * the image if the tag is new: the config gets {@code diffId} in {@code rootfs.diff_ids} and a
     * history entry, a new manifest is stored and the tag moved to it.
     */
    public static LayerResult appendLayer(OciLayout layout, String tag, Descriptor layer, Digest diffId, String createdBy,
                                          ImageDefaults defaults) throws IOException {
        if (!OciLayout.isValidTag(tag)) {
            throw new IllegalArgumentException("invalid tag '" + tag + "'");
        }
        Optional<Descriptor> existing = layout.find(tag);
        ObjectNode config;
        List<Descriptor> layers = new ArrayList<>();
        Manifest old = null;
        if (existing.isPresent()) {
            ManifestBlob mb = layout.readManifest(existing.get());
            old = mb.manifest();
            if (!MediaTypes.CONFIG.equals(old.config().mediaType())) {
                throw new FormatException("config.mediaType", old.config().mediaType(),
                        tag + " is not a container image (an artifact?); layers can only be added to images");
            }
            JsonNode c = OciJson.tree(layout.readBlob(old.config(), OciJson.MAX_CONFIG_BYTES), "config " + old.config().digest());
            if (!(c instanceof ObjectNode o)) {
                throw new FormatException("config", old.config().digest(), "image config is not a JSON object");
            }
            config = o;
            layers.addAll(old.layers());
        } else {
            config = newConfig(defaults);
        }
        JsonNode rootfs = config.get("rootfs");
        if (!(rootfs instanceof ObjectNode)) {
            rootfs = config.putObject("rootfs").put("type", "layers");
        }
        ObjectNode r = (ObjectNode) rootfs;
        JsonNode ids = r.get("diff_ids");
        ArrayNode diffIds = ids instanceof ArrayNode a ? a : r.putArray("diff_ids");
        if (diffIds.size() != layers.size()) {
            throw new FormatException("rootfs.diff_ids", diffIds.size(), tag + ": the config lists " + diffIds.size()
                    + " diff_ids for " + layers.size() + " layers");
        }
        diffIds.add(diffId.toString());
        JsonNode h = config.get("history");
        ArrayNode history = h instanceof ArrayNode a ? a : config.putArray("history");
        ObjectNode entry = history.addObject();
        if (defaults.created() != null) {
            entry.put("created", rfc3339(defaults.created()));
        }
        entry.put("created_by", createdBy);
        if (defaults.created() != null && existing.isPresent()) {
            config.put("created", rfc3339(defaults.created()));
        }
        Descriptor cfg = layout.putBlob(OciJson.encode(config), MediaTypes.CONFIG);
        layers.add(layer);
        Manifest m = old == null
                ? Manifest.of(null, cfg, layers, null, null)
                : new Manifest(2, MediaTypes.MANIFEST, old.artifactType(), cfg, layers, old.subject(), old.annotations());
        Descriptor md = layout.putBlob(OciJson.encode(m), MediaTypes.MANIFEST);
        layout.tag(tag, md);
        return new LayerResult(md.withAnnotation(MediaTypes.REF_NAME, tag), cfg, layer, layers.size(), old == null);
    }

    static ObjectNode newConfig(ImageDefaults d) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        if (d.created() != null) {
            c.put("created", rfc3339(d.created()));
        }
        c.put("architecture", d.architecture());
        c.put("os", d.os());
        c.putObject("config");
        c.putObject("rootfs").put("type", "layers").putArray("diff_ids");
        c.putArray("history");
        return c;
    }

    static String rfc3339(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t);
    }

    /**
     * Stores an OCI 1.1 artifact manifest: {@code artifactType}, the empty config, {@code layers}
     * (already stored; the empty descriptor when there are none), an optional {@code subject}, and
     * tags it.
     */
    public static Descriptor addArtifact(OciLayout layout, String tag, String artifactType, List<Descriptor> layers,
                                         Descriptor subject, Map<String, String> annotations) throws IOException {
        if (artifactType == null || !artifactType.matches("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")) {
            throw new IllegalArgumentException("--artifact-type must be a media type like application/vnd.example.thing.v1, not '"
                    + artifactType + "'");
        }
        Descriptor empty = layout.putBlob(MediaTypes.EMPTY_JSON, MediaTypes.EMPTY);
        List<Descriptor> ls = layers.isEmpty() ? List.of(empty) : layers;
        Descriptor subj = subject == null ? null
                : new Descriptor(subject.mediaType(), subject.artifactType(), subject.digest(), subject.size(), null, null, null, null);
        Manifest m = Manifest.of(artifactType, empty, ls, subj, annotations);
        Descriptor md = layout.putBlob(OciJson.encode(m), MediaTypes.MANIFEST).withArtifactType(artifactType);
        if (tag != null) {
            layout.tag(tag, md);
        } else {
            layout.addUntagged(md);
        }
        return md;
    }

    /**
     * Stores a new image made from {@code source}'s manifest and config with its layers replaced by
     * {@code layers} (one for one, e.g. converted layers) and {@code rootfs.diff_ids} by
     * {@code diffIds}; every other config field, the history and the manifest annotations are
     * kept. Tags it {@code tag}.
     */
    public static Descriptor replaceLayers(OciLayout layout, Descriptor source, String tag, List<Descriptor> layers,
                                           List<Digest> diffIds) throws IOException {
        Manifest old = layout.readManifest(source).manifest();
        if (!MediaTypes.CONFIG.equals(old.config().mediaType())) {
            throw new FormatException("config.mediaType", old.config().mediaType(), "not a container image");
        }
        if (layers.size() != old.layers().size() || diffIds.size() != layers.size()) {
            throw new IllegalArgumentException("replaceLayers needs one new layer and diff_id per old layer");
        }
        JsonNode c = OciJson.tree(layout.readBlob(old.config(), OciJson.MAX_CONFIG_BYTES), "config " + old.config().digest());
        if (!(c instanceof ObjectNode config)) {
            throw new FormatException("config", old.config().digest(), "image config is not a JSON object");
        }
        JsonNode rootfs = config.get("rootfs");
        ObjectNode r = rootfs instanceof ObjectNode o ? o : config.putObject("rootfs").put("type", "layers");
        ArrayNode ids = r.putArray("diff_ids");
        for (Digest d : diffIds) {
            ids.add(d.toString());
        }
        Descriptor cfg = layout.putBlob(OciJson.encode(config), MediaTypes.CONFIG);
        Manifest m = new Manifest(2, MediaTypes.MANIFEST, old.artifactType(), cfg, layers, old.subject(), old.annotations());
        Descriptor md = layout.putBlob(OciJson.encode(m), MediaTypes.MANIFEST);
        layout.tag(tag, md);
        return md;
    }
}
