package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/**
 * {@code struct erofs_inode_chunk_index} (erofs-utils 1.8 {@code include/erofs_fs.h}): 8 bytes per
 * chunk of a {@code CHUNK_BASED} inode whose chunk format has {@code EROFS_CHUNK_FORMAT_INDEXES}
 * (0x20); the array follows the inode and its inline xattrs, 8-byte aligned. In tar-index images
 * ({@code mkfs.erofs --tar=i}) every chunk points into device 1, the appended tar.
 */
record ChunkIndex(
        int advise,     // 0x00 u16 (zero)
        int deviceId,   // 0x02 u16
        long blkaddr) { // 0x04 u32, block of the chunk in that device
    static final int SIZE = 8;
    static final int FORMAT_INDEXES = 0x20;
    static final int FORMAT_BLKBITS_MASK = 0x1F;

    void encode(byte[] b, int off) {
        LittleEndian.putU16(b, off, advise);
        LittleEndian.putU16(b, off + 0x02, deviceId);
        LittleEndian.putU32(b, off + 0x04, blkaddr);
    }
}
