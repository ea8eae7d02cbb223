package dev.cairn.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A content descriptor (image-spec 1.1 {@code descriptor.md}). JSON keys are written in the
 * order of the components; annotations are sorted by key. {@code platform} is kept as opaque JSON.
 *
 * @param mediaType    media type of the referenced content (required)
 * @param artifactType artifact type of a referenced manifest, or null
 * @param digest       digest of the referenced bytes (required)
 * @param size         size of the referenced bytes (required, non-negative)
 * @param urls         alternative download locations (may be empty)
 * @param data         base64 embedded content, or null
 * @param platform     platform object of an index entry, or null
 * @param annotations  annotations (may be empty, never null)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"mediaType", "artifactType", "digest", "size", "urls", "data", "platform", "annotations"})
public record Descriptor(String mediaType, String artifactType, Digest digest, long size,
                         @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> urls, String data,
                         JsonNode platform,
                         @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> annotations) {
    public Descriptor {
        if (mediaType == null || mediaType.isEmpty()) {
            throw new IllegalArgumentException("a descriptor needs a mediaType");
        }
        Objects.requireNonNull(digest, "a descriptor needs a digest");
        if (size < 0) {
            throw new IllegalArgumentException("descriptor size must not be negative, not " + size);
        }
        urls = urls == null ? List.of() : List.copyOf(urls);
        annotations = annotations == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(annotations));
    }

    public static Descriptor of(String mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, null, digest, size, null, null, null, null);
    }

    /** The empty-config descriptor of image-spec 1.1 ({@code {}}, 2 bytes). */
    public static Descriptor empty() {
        return of(MediaTypes.EMPTY, Digest.of(MediaTypes.EMPTY_DIGEST), 2);
    }

    public Descriptor withAnnotations(Map<String, String> a) {
        return new Descriptor(mediaType, artifactType, digest, size, urls, data, platform, a);
    }

    public Descriptor withArtifactType(String t) {
        return new Descriptor(mediaType, t, digest, size, urls, data, platform, annotations);
    }

    /** This descriptor with annotation {@code key} set (or removed when {@code value} is null). */
    public Descriptor withAnnotation(String key, String value) {
        Map<String, String> a = new TreeMap<>(annotations);
        if (value == null) {
            a.remove(key);
        } else {
            a.put(key, value);
        }
        return withAnnotations(a);
    }

    /** The tag of a layout index entry ({@code org.opencontainers.image.ref.name}), or null. */
    public String refName() {
        return annotations.get(MediaTypes.REF_NAME);
    }
}
