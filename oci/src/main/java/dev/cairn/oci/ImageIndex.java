package dev.cairn.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** An image index (image-spec 1.1 {@code image-index.md}); also the layout's {@code index.json}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"schemaVersion", "mediaType", "artifactType", "manifests", "subject", "annotations"})
public record ImageIndex(int schemaVersion, String mediaType, String artifactType, List<Descriptor> manifests,
                         Descriptor subject, @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> annotations) {
    public ImageIndex {
        if (schemaVersion != 2) {
            throw new IllegalArgumentException("schemaVersion must be 2, not " + schemaVersion);
        }
        manifests = manifests == null ? List.of() : List.copyOf(manifests);
        annotations = annotations == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(annotations));
    }

    public static ImageIndex of(List<Descriptor> manifests) {
        return new ImageIndex(2, MediaTypes.INDEX, null, manifests, null, null);
    }

    public ImageIndex withManifests(List<Descriptor> m) {
        return new ImageIndex(schemaVersion, mediaType == null ? MediaTypes.INDEX : mediaType, artifactType, m, subject, annotations);
    }
}
