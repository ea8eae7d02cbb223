package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/**
 * {@code struct erofs_xattr_ibody_header} (erofs-utils 1.8 {@code include/erofs_fs.h}): 12 bytes right
 * after the inode; the inline xattr entries follow (no shared xattrs in a tar conversion).
 */
record XattrIbodyHeader(
        long nameFilter,    // 0x00 u32: bit set = name hash absent (bloom filter, inverted)
        int sharedCount) {  // 0x04 u8, 0x05 [7] reserved
    static final int SIZE = 12;

    void encode(byte[] b, int off) {
        LittleEndian.putU32(b, off, nameFilter);
        b[off + 4] = (byte) sharedCount;
    }
}
