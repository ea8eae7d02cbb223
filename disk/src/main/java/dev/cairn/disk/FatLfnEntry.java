package dev.cairn.disk;

import dev.cairn.io.LittleEndian;

/**
 * A VFAT long-name entry (fatgen103 §7), 32 bytes, little-endian: 13 UTF-16 code units of the
 * long name, stored in reverse order before the short entry they belong to.
 *
 * <pre>
 * 0x00  1  LDIR_Ord        sequence number 1..20, 0x40 on the last (first stored) entry
 * 0x01 10  LDIR_Name1      code units 1-5
 * 0x0B  1  LDIR_Attr       0x0F
 * 0x0C  1  LDIR_Type       0
 * 0x0D  1  LDIR_Chksum     checksum of the short name
 * 0x0E 12  LDIR_Name2      code units 6-11
 * 0x1A  2  LDIR_FstClusLO  0
 * 0x1C  4  LDIR_Name3      code units 12-13
 * </pre>
 *
 * After the name's last code unit comes one 0x0000, then 0xFFFF up to the entry's end.
 *
 * @param units the 13 code units as stored (including the terminator and padding)
 */
record FatLfnEntry(int ord, char[] units, int checksum) {
    static final int SIZE = 32;
    static final int UNITS = 13;
    static final int LAST_LONG_ENTRY = 0x40;
    static final int OFF_ORD = 0x00;
    static final int OFF_NAME1 = 0x01;
    static final int OFF_ATTR = 0x0B;
    static final int OFF_TYPE = 0x0C;
    static final int OFF_CHKSUM = 0x0D;
    static final int OFF_NAME2 = 0x0E;
    static final int OFF_FST_CLUS_LO = 0x1A;
    static final int OFF_NAME3 = 0x1C;
    /** Where code unit i (0-12) is stored within the entry. */
    static final int[] UNIT_OFFSETS = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

    FatLfnEntry {
        units = units.clone();
        if (units.length != UNITS) {
            throw new IllegalArgumentException("an LFN entry holds 13 code units");
        }
    }

    @Override
    public char[] units() {
        return units.clone();
    }

    void encode(byte[] b, int off) {
        b[off + OFF_ORD] = (byte) ord;
        for (int i = 0; i < UNITS; i++) {
            LittleEndian.putU16(b, off + UNIT_OFFSETS[i], units[i]);
        }
        b[off + OFF_ATTR] = (byte) FatDirEntry.ATTR_LONG_NAME;
        b[off + OFF_TYPE] = 0;
        b[off + OFF_CHKSUM] = (byte) checksum;
        LittleEndian.putU16(b, off + OFF_FST_CLUS_LO, 0);
    }

    byte[] encode() {
        byte[] b = new byte[SIZE];
        encode(b, 0);
        return b;
    }

    /** The entries for {@code longName}, in the order they are stored (highest ordinal first). */
    static FatLfnEntry[] forName(String longName, int checksum) {
        int n = (longName.length() + UNITS - 1) / UNITS;
        FatLfnEntry[] out = new FatLfnEntry[n];
        for (int k = 0; k < n; k++) {
            char[] u = new char[UNITS];
            for (int i = 0; i < UNITS; i++) {
                int at = k * UNITS + i;
                u[i] = at < longName.length() ? longName.charAt(at) : at == longName.length() ? '\0' : '\uFFFF';
            }
            int ord = (k + 1) | (k == n - 1 ? LAST_LONG_ENTRY : 0);
            out[n - 1 - k] = new FatLfnEntry(ord, u, checksum);
        }
        return out;
    }

    /** fatgen103's ChkSum over the 11-byte short name. */
    static int checksum(byte[] shortName) {
        int sum = 0;
        for (int i = 0; i < 11; i++) {
            sum = (((sum & 1) << 7) | ((sum & 0xFF) >>> 1)) + (shortName[i] & 0xFF);
            sum &= 0xFF;
        }
        return sum;
    }

    static char unit(byte[] b, int off, int i) {
        return (char) ((b[off + UNIT_OFFSETS[i]] & 0xFF) | (b[off + UNIT_OFFSETS[i] + 1] & 0xFF) << 8);
    }
}
