package dev.cairn.disk;

import dev.cairn.io.LittleEndian;
import java.util.Arrays;

/**
 * A short (8.3) directory entry (fatgen103 §6), 32 bytes, little-endian.
 *
 * <pre>
 * 0x00 11  DIR_Name          8.3 name, space padded, upper case
 * 0x0B  1  DIR_Attr          0x08 volume label, 0x10 directory, 0x20 archive
 * 0x0C  1  DIR_NTRes         0 (no lower-case flags: mixed case goes into long names)
 * 0x0D  1  DIR_CrtTimeTenth  10 ms units, 0-199
 * 0x0E  2  DIR_CrtTime
 * 0x10  2  DIR_CrtDate
 * 0x12  2  DIR_LstAccDate
 * 0x14  2  DIR_FstClusHI
 * 0x16  2  DIR_WrtTime
 * 0x18  2  DIR_WrtDate
 * 0x1A  2  DIR_FstClusLO
 * 0x1C  4  DIR_FileSize
 * </pre>
 */
record FatDirEntry(byte[] name, int attr, int ntRes, int crtTimeTenth, int crtTime, int crtDate, int lstAccDate,
                   long firstCluster, int wrtTime, int wrtDate, long fileSize) {
    static final int SIZE = 32;
    static final int ATTR_READ_ONLY = 0x01;
    static final int ATTR_HIDDEN = 0x02;
    static final int ATTR_SYSTEM = 0x04;
    static final int ATTR_VOLUME_ID = 0x08;
    static final int ATTR_DIRECTORY = 0x10;
    static final int ATTR_ARCHIVE = 0x20;
    static final int ATTR_LONG_NAME = 0x0F;
    static final int OFF_NAME = 0x00;
    static final int OFF_ATTR = 0x0B;
    static final int OFF_NT_RES = 0x0C;
    static final int OFF_CRT_TIME_TENTH = 0x0D;
    static final int OFF_CRT_TIME = 0x0E;
    static final int OFF_CRT_DATE = 0x10;
    static final int OFF_LST_ACC_DATE = 0x12;
    static final int OFF_FST_CLUS_HI = 0x14;
    static final int OFF_WRT_TIME = 0x16;
    static final int OFF_WRT_DATE = 0x18;
    static final int OFF_FST_CLUS_LO = 0x1A;
    static final int OFF_FILE_SIZE = 0x1C;

    FatDirEntry {
        name = name.clone();
        if (name.length != 11) {
            throw new IllegalArgumentException("a short name is 11 bytes");
        }
    }

    @Override
    public byte[] name() {
        return name.clone();
    }

    /** An entry whose times all come from {@code t}. */
    static FatDirEntry of(byte[] name, int attr, FatTime t, long firstCluster, long fileSize) {
        return new FatDirEntry(name, attr, 0, t.tenths(), t.time(), t.date(), t.date(), firstCluster, t.time(), t.date(), fileSize);
    }

    void encode(byte[] b, int off) {
        System.arraycopy(name, 0, b, off + OFF_NAME, 11);
        b[off + OFF_ATTR] = (byte) attr;
        b[off + OFF_NT_RES] = (byte) ntRes;
        b[off + OFF_CRT_TIME_TENTH] = (byte) crtTimeTenth;
        LittleEndian.putU16(b, off + OFF_CRT_TIME, crtTime);
        LittleEndian.putU16(b, off + OFF_CRT_DATE, crtDate);
        LittleEndian.putU16(b, off + OFF_LST_ACC_DATE, lstAccDate);
        LittleEndian.putU16(b, off + OFF_FST_CLUS_HI, (int) (firstCluster >>> 16));
        LittleEndian.putU16(b, off + OFF_WRT_TIME, wrtTime);
        LittleEndian.putU16(b, off + OFF_WRT_DATE, wrtDate);
        LittleEndian.putU16(b, off + OFF_FST_CLUS_LO, (int) (firstCluster & 0xFFFF));
        LittleEndian.putU32(b, off + OFF_FILE_SIZE, fileSize);
    }

    byte[] encode() {
        byte[] b = new byte[SIZE];
        encode(b, 0);
        return b;
    }

    static FatDirEntry decode(byte[] b, int off) {
        return new FatDirEntry(Arrays.copyOfRange(b, off, off + 11), b[off + OFF_ATTR] & 0xFF, b[off + OFF_NT_RES] & 0xFF,
                b[off + OFF_CRT_TIME_TENTH] & 0xFF, u16(b, off + OFF_CRT_TIME), u16(b, off + OFF_CRT_DATE),
                u16(b, off + OFF_LST_ACC_DATE), (long) u16(b, off + OFF_FST_CLUS_HI) << 16 | u16(b, off + OFF_FST_CLUS_LO),
                u16(b, off + OFF_WRT_TIME), u16(b, off + OFF_WRT_DATE),
                (b[off + OFF_FILE_SIZE] & 0xFFL) | (b[off + OFF_FILE_SIZE + 1] & 0xFFL) << 8
                        | (b[off + OFF_FILE_SIZE + 2] & 0xFFL) << 16 | (b[off + OFF_FILE_SIZE + 3] & 0xFFL) << 24);
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FatDirEntry e && Arrays.equals(encode(), e.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
