package dev.cairn.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An image manifest (image-spec 1.1 {@code manifest.md}). Readers keep the exact bytes beside the
 * record ({@link OciLayout#readManifest}); the record is only re-encoded for manifests cairn creates.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"schemaVersion", "mediaType", "artifactType", "config", "layers", "subject", "annotations"})
public record Manifest(int schemaVersion, String mediaType, String artifactType, Descriptor config,
                       List<Descriptor> layers, Descriptor subject,
                       @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> annotations) {
    public Manifest {
        if (schemaVersion != 2) {
            throw new IllegalArgumentException("schemaVersion must be 2, not " + schemaVersion);
        }
        if (config == null) {
            throw new IllegalArgumentException("a manifest needs a config descriptor");
        }
        layers = layers == null ? List.of() : List.copyOf(layers);
        annotations = annotations == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(annotations));
    }

    /** A new OCI image manifest. */
    public static Manifest of(String artifactType, Descriptor config, List<Descriptor> layers, Descriptor subject,
                              Map<String, String> annotations) {
        return new Manifest(2, MediaTypes.MANIFEST, artifactType, config, layers, subject, annotations);
    }

    /** The artifact type as the referrers API reports it: {@code artifactType}, else the config's media type. */
    public String effectiveArtifactType() {
        return artifactType != null ? artifactType : config.mediaType();
    }
}
