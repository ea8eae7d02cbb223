package dev.cairn.oci;

import java.util.List;

/** What {@link OciLayout#gc()} removed: the unreferenced blobs and the bytes they held. */
public record GcResult(List<Digest> removed, long bytesFreed, int kept) {
    public GcResult {
        removed = List.copyOf(removed);
    }
}
