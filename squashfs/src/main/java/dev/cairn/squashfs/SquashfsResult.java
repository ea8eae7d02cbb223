package dev.cairn.squashfs;

/**
 * What {@link SquashfsWriter#finish()} wrote.
 *
 * @param bytesUsed        end of the filesystem (superblock bytes_used)
 * @param imageSize        file size after padding to 4 KiB (where appended verity data starts)
 * @param inodes           inodes in the image
 * @param fragments        fragment blocks
 * @param ids              distinct uids/gids
 * @param xattrIds         distinct extended attribute sets
 * @param inputBytes       file content read, before deduplication and compression
 * @param dataBytes        bytes of data and fragment blocks written
 * @param duplicateFiles   files stored as a reference to identical earlier content
 * @param duplicateBytes   content bytes those files did not store again
 * @param sparseBytes      all-zero bytes stored as holes
 * @param warnings         what the caller should know: what a source left out (extended attributes
 *                         SquashFS cannot store or that could not be read), each once
 */
public record SquashfsResult(long bytesUsed, long imageSize, long inodes, long fragments, int ids, int xattrIds,
                             long inputBytes, long dataBytes, long duplicateFiles, long duplicateBytes, long sparseBytes,
                             java.util.List<String> warnings) {
    public SquashfsResult {
        warnings = java.util.List.copyOf(warnings);
    }

    /** Image size over input size (lower is better). */
    public double ratio() {
        return inputBytes == 0 ? 0 : (double) imageSize / inputBytes;
    }
}
