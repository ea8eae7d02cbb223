package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/**
 * {@code struct erofs_dirent} (erofs-utils 1.8 {@code include/erofs_fs.h}): 12 bytes; a directory
 * block holds all dirents first, then the names they point at (not NUL-terminated).
 */
record Dirent(
        long nid,       // 0x00 u64
        int nameoff,    // 0x08 u16, from the start of the block
        int fileType) { // 0x0A u8, 0x0B u8 reserved
    static final int SIZE = 12;

    void encode(byte[] b, int off) {
        LittleEndian.putU64(b, off, nid);
        LittleEndian.putU16(b, off + 0x08, nameoff);
        b[off + 0x0A] = (byte) fileType;
    }
}
