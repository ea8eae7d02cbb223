package dev.cairn.oci;

import java.util.List;
import java.util.Set;

/**
 * What walking a layout from {@code index.json} found.
 *
 * @param reachable blobs referenced (directly or through manifests and indexes), present or not
 * @param missing   referenced blobs absent from {@code blobs/} (allowed by image-layout, reported)
 * @param unknown   descriptors with media types cairn does not follow, as {@code mediaType digest}
 *                  (allowed by image-spec, reported, never an error)
 */
public record LayoutWalk(Set<Digest> reachable, Set<Digest> missing, List<String> unknown) {
    public LayoutWalk {
        reachable = Set.copyOf(reachable);
        missing = Set.copyOf(missing);
        unknown = List.copyOf(unknown);
    }
}
