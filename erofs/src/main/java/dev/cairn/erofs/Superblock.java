package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/**
 * The EROFS superblock, {@code struct erofs_super_block} of erofs-utils 1.8 {@code include/erofs_fs.h}:
 * 128 bytes at byte 1024 of the image, little-endian. Fields not listed (compression, long xattr
 * prefixes, packed inode) are zero for an uncompressed single-device image.
 */
record Superblock(
        long checksum,          // 0x04 u32, ~CRC-32C of [1024, block end) with this field zero
        long featureCompat,     // 0x08 u32
        int blkszbits,          // 0x0C u8
        int rootNid,            // 0x0E u16
        long inos,              // 0x10 u64
        long buildTime,         // 0x18 u64
        long buildTimeNsec,     // 0x20 u32
        long blocks,            // 0x24 u32
        long metaBlkaddr,       // 0x28 u32
        long xattrBlkaddr,      // 0x2C u32
        byte[] uuid,            // 0x30 [16]
        byte[] volumeName,      // 0x40 [16]
        long featureIncompat,   // 0x50 u32, 0x54 u16 zero
        int extraDevices,       // 0x56 u16
        int devtSlotoff) {      // 0x58 u16, device table at devtSlotoff * 128 (0x5A.. zero)
    static final int OFFSET = 1024;
    static final int SIZE = 128;
    static final long MAGIC = 0xE0F5E1E2L;
    static final long COMPAT_SB_CHKSUM = 0x1;
    static final long COMPAT_MTIME = 0x2;
    static final long COMPAT_XATTR_FILTER = 0x4;
    static final long INCOMPAT_DEVICE_TABLE = 0x8;

    /**
     * The superblock checksum of {@code lib/super.c}: {@code crc32c(~0, ...)} without the final
     * inversion over {@code len} bytes from {@code off} (the superblock to the end of its block, with
     * the checksum field zero), which is the bitwise NOT of standard CRC-32C.
     */
    static long checksum(byte[] b, int off, int len) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, off, len);
        return ~crc.getValue() & 0xFFFF_FFFFL;
    }

    void encode(byte[] b, int off) {
        LittleEndian.putU32(b, off, MAGIC);
        LittleEndian.putU32(b, off + 0x04, checksum);
        LittleEndian.putU32(b, off + 0x08, featureCompat);
        b[off + 0x0C] = (byte) blkszbits;
        b[off + 0x0D] = 0; // sb_extslots
        LittleEndian.putU16(b, off + 0x0E, rootNid);
        LittleEndian.putU64(b, off + 0x10, inos);
        LittleEndian.putU64(b, off + 0x18, buildTime);
        LittleEndian.putU32(b, off + 0x20, buildTimeNsec);
        LittleEndian.putU32(b, off + 0x24, blocks);
        LittleEndian.putU32(b, off + 0x28, metaBlkaddr);
        LittleEndian.putU32(b, off + 0x2C, xattrBlkaddr);
        System.arraycopy(uuid, 0, b, off + 0x30, 16);
        System.arraycopy(volumeName, 0, b, off + 0x40, 16);
        LittleEndian.putU32(b, off + 0x50, featureIncompat);
        LittleEndian.putU16(b, off + 0x56, extraDevices);
        LittleEndian.putU16(b, off + 0x58, devtSlotoff);
    }
}
