package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/** {@code struct erofs_inode_extended} (erofs-utils 1.8 {@code include/erofs_fs.h}): 64 bytes. */
record ExtendedInode(
        int format,        // 0x00 u16: bit 0 = 1 (extended), bits 1-3 data layout
        int xattrIcount,   // 0x02 u16
        int mode,          // 0x04 u16, 0x06 u16 reserved
        long size,         // 0x08 u64
        long iu,           // 0x10 u32
        long ino,          // 0x14 u32
        long uid,          // 0x18 u32
        long gid,          // 0x1C u32
        long mtime,        // 0x20 u64
        long mtimeNsec,    // 0x28 u32
        long nlink) {      // 0x2C u32, 0x30 [16] reserved
    static final int SIZE = 64;

    void encode(byte[] b, int off) {
        LittleEndian.putU16(b, off, format);
        LittleEndian.putU16(b, off + 0x02, xattrIcount);
        LittleEndian.putU16(b, off + 0x04, mode);
        LittleEndian.putU64(b, off + 0x08, size);
        LittleEndian.putU32(b, off + 0x10, iu);
        LittleEndian.putU32(b, off + 0x14, ino);
        LittleEndian.putU32(b, off + 0x18, uid);
        LittleEndian.putU32(b, off + 0x1C, gid);
        LittleEndian.putU64(b, off + 0x20, mtime);
        LittleEndian.putU32(b, off + 0x28, mtimeNsec);
        LittleEndian.putU32(b, off + 0x2C, nlink);
    }
}
