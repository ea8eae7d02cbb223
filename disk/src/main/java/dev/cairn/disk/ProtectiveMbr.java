package dev.cairn.disk;

import dev.cairn.io.LittleEndian;

/**
 * The protective MBR in LBA 0 of a GPT disk, as libfdisk writes it (ddi-sysext.md §3.1; UEFI 2.10
 * §5.2.3): no boot code, disk signature 0, one partition record of type {@code 0xEE} covering the
 * disk from LBA 1, {@code 55 AA}.
 *
 * <pre>
 * 0x000 440  boot code            zero
 * 0x1B8   4  disk signature       0
 * 0x1BC   2  reserved             0
 * 0x1BE  16  partition record 1:
 *            +0  boot indicator   0x00
 *            +1  starting CHS     00 02 00
 *            +4  OS type          0xEE (GPT protective)
 *            +5  ending CHS       FF FF FF
 *            +8  starting LBA     1 (u32)
 *            +12 size in LBA      min(total sectors - 1, 0xFFFFFFFF) (u32)
 * 0x1CE  48  partition records 2-4 zero
 * 0x1FE   2  signature            55 AA
 * </pre>
 *
 * @param sizeInLba the record's size field (already capped at 0xFFFFFFFF)
 */
record ProtectiveMbr(long sizeInLba) {
    static final int SIZE = 512;
    static final int OFF_RECORD = 0x1BE;
    static final int OFF_SIGNATURE = 0x1FE;
    static final int OS_TYPE_GPT = 0xEE;

    ProtectiveMbr {
        if (sizeInLba < 0 || sizeInLba > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("size in LBA out of u32 range: " + sizeInLba);
        }
    }

    static ProtectiveMbr forDisk(long totalSectors) {
        return new ProtectiveMbr(Math.min(totalSectors - 1, 0xFFFF_FFFFL));
    }

    byte[] encode() {
        byte[] b = new byte[SIZE];
        int r = OFF_RECORD;
        b[r] = 0x00;
        b[r + 1] = 0x00;
        b[r + 2] = 0x02;
        b[r + 3] = 0x00;
        b[r + 4] = (byte) OS_TYPE_GPT;
        b[r + 5] = (byte) 0xFF;
        b[r + 6] = (byte) 0xFF;
        b[r + 7] = (byte) 0xFF;
        LittleEndian.putU32(b, r + 8, 1);
        LittleEndian.putU32(b, r + 12, sizeInLba);
        b[OFF_SIGNATURE] = 0x55;
        b[OFF_SIGNATURE + 1] = (byte) 0xAA;
        return b;
    }
}
