package dev.cairn.disk;

import dev.cairn.io.LittleEndian;

/**
 * The FAT32 FSInfo sector (fatgen103 §5), little-endian, in sector 1 (and its backup in 7).
 *
 * <pre>
 * 0x000   4  FSI_LeadSig     0x41615252 ("RRaA")
 * 0x004 480  FSI_Reserved1   0
 * 0x1E4   4  FSI_StrucSig    0x61417272 ("rrAa")
 * 0x1E8   4  FSI_Free_Count  free clusters
 * 0x1EC   4  FSI_Nxt_Free    the last allocated cluster (a hint where to look for free ones)
 * 0x1F0  12  FSI_Reserved2   0
 * 0x1FC   4  FSI_TrailSig    0xAA550000 (bytes 00 00 55 AA)
 * </pre>
 */
record FatFsInfo(long freeCount, long nextFree) {
    static final int SIZE = 512;
    static final long LEAD_SIG = 0x4161_5252L;
    static final long STRUC_SIG = 0x6141_7272L;
    static final long TRAIL_SIG = 0xAA55_0000L;
    static final int OFF_LEAD_SIG = 0x000;
    static final int OFF_STRUC_SIG = 0x1E4;
    static final int OFF_FREE_COUNT = 0x1E8;
    static final int OFF_NXT_FREE = 0x1EC;
    static final int OFF_TRAIL_SIG = 0x1FC;

    byte[] encode() {
        byte[] b = new byte[SIZE];
        LittleEndian.putU32(b, OFF_LEAD_SIG, LEAD_SIG);
        LittleEndian.putU32(b, OFF_STRUC_SIG, STRUC_SIG);
        LittleEndian.putU32(b, OFF_FREE_COUNT, freeCount);
        LittleEndian.putU32(b, OFF_NXT_FREE, nextFree);
        LittleEndian.putU32(b, OFF_TRAIL_SIG, TRAIL_SIG);
        return b;
    }
}
