package dev.cairn.erofs;

import java.util.UUID;

/**
 * What a conversion produced.
 *
 * @param size image size in bytes ({@code blocks * 4096}; tar-index mode: {@code blocks * 512})
 * @param blocks image size in blocks (the superblock's {@code blocks})
 * @param inodes inodes written (the superblock's {@code inos})
 * @param rootNid the root directory's nid
 * @param uuid the volume UUID
 * @param checksum the superblock checksum as stored (0 in tar-index mode, which stores none)
 */
public record ErofsResult(long size, long blocks, long inodes, int rootNid, UUID uuid, long checksum) {
}
