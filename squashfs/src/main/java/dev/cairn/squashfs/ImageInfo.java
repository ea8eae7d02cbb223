package dev.cairn.squashfs;

import java.util.List;

/**
 * What {@code cairn squashfs info} reports about an image.
 *
 * @param compression compressor name
 * @param blockSize   data block size
 * @param bytesUsed   filesystem size (superblock bytes_used)
 * @param imageSize   file size (padding and appended data included)
 * @param inodes      inode count
 * @param fragments   fragment blocks
 * @param ids         uid/gid table entries
 * @param xattrIds    extended attribute sets
 * @param mkfsTime    creation time, seconds since the epoch
 * @param exportable  has an NFS export table
 * @param flags       superblock flags by name
 */
public record ImageInfo(String compression, int blockSize, long bytesUsed, long imageSize, long inodes, long fragments,
                        int ids, long xattrIds, long mkfsTime, boolean exportable, List<String> flags) {
}
