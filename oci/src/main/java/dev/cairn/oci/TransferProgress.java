package dev.cairn.oci;

/**
 * What a transfer tells a progress display, blob by blob: a blob starts to move, then bytes of it
 * move (uploaded, downloaded or copied; an upload that is retried counts its bytes again).
 * Blobs the destination has, mounted blobs and manifests are not reported. Bytes may be reported
 * from the HTTP client's threads: implementations are thread-safe.
 */
public interface TransferProgress {
    /** Reports nothing. */
    TransferProgress NONE = new TransferProgress() {
    };

    /** {@code blob}'s bytes start to move ({@code verb}: "push", "pull" or "copy"). */
    default void blobStarted(String verb, Descriptor blob) {
    }

    /** {@code bytes} more bytes of the current blob moved. */
    default void advanced(long bytes) {
    }
}
