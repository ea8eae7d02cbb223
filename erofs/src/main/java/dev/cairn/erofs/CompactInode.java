package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/**
 * {@code struct erofs_inode_compact} (erofs-utils 1.8 {@code include/erofs_fs.h}): 32 bytes, used when
 * the mtime equals the build time and uid, gid, nlink fit 16 bits and the size 32 bits.
 */
record CompactInode(
        int format,        // 0x00 u16: bit 0 = 0 (compact), bits 1-3 data layout
        int xattrIcount,   // 0x02 u16
        int mode,          // 0x04 u16
        int nlink,         // 0x06 u16
        long size,         // 0x08 u32
                           // 0x0C u32 reserved
        long iu,           // 0x10 u32: start block, rdev, or 0xFFFFFFFF
        long ino,          // 0x14 u32
        int uid,           // 0x18 u16
        int gid) {         // 0x1A u16, 0x1C u32 reserved
    static final int SIZE = 32;

    void encode(byte[] b, int off) {
        LittleEndian.putU16(b, off, format);
        LittleEndian.putU16(b, off + 0x02, xattrIcount);
        LittleEndian.putU16(b, off + 0x04, mode);
        LittleEndian.putU16(b, off + 0x06, nlink);
        LittleEndian.putU32(b, off + 0x08, size);
        LittleEndian.putU32(b, off + 0x10, iu);
        LittleEndian.putU32(b, off + 0x14, ino);
        LittleEndian.putU16(b, off + 0x18, uid);
        LittleEndian.putU16(b, off + 0x1A, gid);
    }
}
