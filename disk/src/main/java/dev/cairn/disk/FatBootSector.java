package dev.cairn.disk;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The FAT32 boot sector (Microsoft "FAT: General Overview of On-Disk Format" 1.03, §3.1 and §3.3;
 * ddi-sysext.md §5), little-endian, as mkfs.fat 4.2 fills it — including its dummy boot code that
 * prints "This is not a bootable disk" — except for the OEM name.
 *
 * <pre>
 * 0x000  3  BS_jmpBoot       EB 58 90
 * 0x003  8  BS_OEMName       "cairn   "
 * 0x00B  2  BPB_BytsPerSec   512
 * 0x00D  1  BPB_SecPerClus
 * 0x00E  2  BPB_RsvdSecCnt   32 (aligned up to the cluster size)
 * 0x010  1  BPB_NumFATs      2
 * 0x011  2  BPB_RootEntCnt   0
 * 0x013  2  BPB_TotSec16     0
 * 0x015  1  BPB_Media        F8
 * 0x016  2  BPB_FATSz16      0
 * 0x018  2  BPB_SecPerTrk
 * 0x01A  2  BPB_NumHeads
 * 0x01C  4  BPB_HiddSec      0
 * 0x020  4  BPB_TotSec32
 * 0x024  4  BPB_FATSz32
 * 0x028  2  BPB_ExtFlags     0 (FATs mirrored)
 * 0x02A  2  BPB_FSVer        0
 * 0x02C  4  BPB_RootClus     2
 * 0x030  2  BPB_FSInfo       1
 * 0x032  2  BPB_BkBootSec    6
 * 0x034 12  BPB_Reserved     0
 * 0x040  1  BS_DrvNum        80
 * 0x041  1  BS_Reserved1     0
 * 0x042  1  BS_BootSig       29
 * 0x043  4  BS_VolID
 * 0x047 11  BS_VolLab
 * 0x052  8  BS_FilSysType    "FAT32   "
 * 0x05A 420 boot code        mkfs.fat's message loop, NUL-terminated
 * 0x1FE  2  signature        55 AA
 * </pre>
 */
record FatBootSector(String oemName, int bytesPerSector, int sectorsPerCluster, int reservedSectors, int numFats,
                     int rootEntryCount, int totalSectors16, int media, int fatSize16, int sectorsPerTrack, int numHeads,
                     long hiddenSectors, long totalSectors32, long fatSize32, int extFlags, int fsVersion, long rootCluster,
                     int fsInfoSector, int backupBootSector, int driveNumber, int bootSignature, int volumeId,
                     byte[] volumeLabel, String fsType) {
    static final int SIZE = 512;
    static final String OEM_NAME = "cairn   ";
    static final int OFF_OEM = 0x03;
    static final int OFF_BYTES_PER_SECTOR = 0x0B;
    static final int OFF_SEC_PER_CLUS = 0x0D;
    static final int OFF_RESERVED = 0x0E;
    static final int OFF_NUM_FATS = 0x10;
    static final int OFF_ROOT_ENT_CNT = 0x11;
    static final int OFF_TOT_SEC16 = 0x13;
    static final int OFF_MEDIA = 0x15;
    static final int OFF_FAT_SZ16 = 0x16;
    static final int OFF_SEC_PER_TRK = 0x18;
    static final int OFF_NUM_HEADS = 0x1A;
    static final int OFF_HIDD_SEC = 0x1C;
    static final int OFF_TOT_SEC32 = 0x20;
    static final int OFF_FAT_SZ32 = 0x24;
    static final int OFF_EXT_FLAGS = 0x28;
    static final int OFF_FS_VER = 0x2A;
    static final int OFF_ROOT_CLUS = 0x2C;
    static final int OFF_FS_INFO = 0x30;
    static final int OFF_BK_BOOT_SEC = 0x32;
    static final int OFF_DRV_NUM = 0x40;
    static final int OFF_BOOT_SIG = 0x42;
    static final int OFF_VOL_ID = 0x43;
    static final int OFF_VOL_LAB = 0x47;
    static final int OFF_FS_TYPE = 0x52;
    static final int OFF_BOOT_CODE = 0x5A;
    static final int BOOT_CODE_SIZE = 420;

    /** mkfs.fat's {@code dummy_boot_code}; bytes 3-4 (the message address) are patched in {@link #encode}. */
    private static final byte[] BOOT_CODE = bootCode();

    FatBootSector {
        volumeLabel = volumeLabel.clone();
        if (volumeLabel.length != 11 || oemName.length() != 8 || fsType.length() != 8) {
            throw new IllegalArgumentException("volume label is 11 bytes, OEM name and file system type 8");
        }
    }

    @Override
    public byte[] volumeLabel() {
        return volumeLabel.clone();
    }

    private static byte[] bootCode() {
        byte[] code = {0x0e, 0x1f, (byte) 0xbe, 0x00, 0x00, (byte) 0xac, 0x22, (byte) 0xc0, 0x74, 0x0b, 0x56, (byte) 0xb4, 0x0e,
            (byte) 0xbb, 0x07, 0x00, (byte) 0xcd, 0x10, 0x5e, (byte) 0xeb, (byte) 0xf0, 0x32, (byte) 0xe4, (byte) 0xcd, 0x16,
            (byte) 0xcd, 0x19, (byte) 0xeb, (byte) 0xfe};
        byte[] msg = ("This is not a bootable disk.  Please insert a bootable floppy and\r\n"
                + "press any key to try again ... \r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[BOOT_CODE_SIZE];
        System.arraycopy(code, 0, b, 0, code.length);
        System.arraycopy(msg, 0, b, code.length, msg.length);
        int address = 0x7c00 + OFF_BOOT_CODE + code.length;
        b[3] = (byte) address;
        b[4] = (byte) (address >>> 8);
        return b;
    }

    byte[] encode() {
        byte[] b = new byte[SIZE];
        b[0] = (byte) 0xEB;
        b[1] = (byte) (OFF_BOOT_CODE - 2);
        b[2] = (byte) 0x90;
        System.arraycopy(oemName.getBytes(StandardCharsets.US_ASCII), 0, b, OFF_OEM, 8);
        LittleEndian.putU16(b, OFF_BYTES_PER_SECTOR, bytesPerSector);
        b[OFF_SEC_PER_CLUS] = (byte) sectorsPerCluster;
        LittleEndian.putU16(b, OFF_RESERVED, reservedSectors);
        b[OFF_NUM_FATS] = (byte) numFats;
        LittleEndian.putU16(b, OFF_ROOT_ENT_CNT, rootEntryCount);
        LittleEndian.putU16(b, OFF_TOT_SEC16, totalSectors16);
        b[OFF_MEDIA] = (byte) media;
        LittleEndian.putU16(b, OFF_FAT_SZ16, fatSize16);
        LittleEndian.putU16(b, OFF_SEC_PER_TRK, sectorsPerTrack);
        LittleEndian.putU16(b, OFF_NUM_HEADS, numHeads);
        LittleEndian.putU32(b, OFF_HIDD_SEC, hiddenSectors);
        LittleEndian.putU32(b, OFF_TOT_SEC32, totalSectors32);
        LittleEndian.putU32(b, OFF_FAT_SZ32, fatSize32);
        LittleEndian.putU16(b, OFF_EXT_FLAGS, extFlags);
        LittleEndian.putU16(b, OFF_FS_VER, fsVersion);
        LittleEndian.putU32(b, OFF_ROOT_CLUS, rootCluster);
        LittleEndian.putU16(b, OFF_FS_INFO, fsInfoSector);
        LittleEndian.putU16(b, OFF_BK_BOOT_SEC, backupBootSector);
        b[OFF_DRV_NUM] = (byte) driveNumber;
        b[OFF_BOOT_SIG] = (byte) bootSignature;
        LittleEndian.putU32(b, OFF_VOL_ID, Integer.toUnsignedLong(volumeId));
        System.arraycopy(volumeLabel, 0, b, OFF_VOL_LAB, 11);
        System.arraycopy(fsType.getBytes(StandardCharsets.US_ASCII), 0, b, OFF_FS_TYPE, 8);
        System.arraycopy(BOOT_CODE, 0, b, OFF_BOOT_CODE, BOOT_CODE_SIZE);
        b[510] = 0x55;
        b[511] = (byte) 0xAA;
        return b;
    }

    /** The boot sector mkfs.fat 4.2 writes for this geometry (FAT32, 2 FATs, media F8, drive 0x80). */
    static FatBootSector of(FatGeometry g, int volumeId, byte[] label11) {
        return new FatBootSector(OEM_NAME, FatGeometry.SECTOR_SIZE, g.sectorsPerCluster(), g.reservedSectors(),
                FatGeometry.NUM_FATS, 0, 0, FatGeometry.MEDIA, 0, g.sectorsPerTrack(), g.heads(), 0, g.totalSectors(),
                g.fatSectors(), 0, 0, FatGeometry.ROOT_CLUSTER, FatGeometry.FS_INFO_SECTOR, FatGeometry.BACKUP_BOOT_SECTOR,
                0x80, 0x29, volumeId, label11, "FAT32   ");
    }

    /** Decodes the fields a reader needs; values are judged by the caller. */
    static FatBootSector decode(byte[] b, long base) throws FormatException {
        if (b.length < SIZE) {
            throw new FormatException(base, "boot sector", b.length + " bytes", "FAT boot sector is truncated");
        }
        if ((b[510] & 0xFF) != 0x55 || (b[511] & 0xFF) != 0xAA) {
            throw new FormatException(base + 510, "signature", String.format("%02x %02x", b[510] & 0xFF, b[511] & 0xFF),
                    "no FAT boot sector signature 55 AA");
        }
        return new FatBootSector(new String(b, OFF_OEM, 8, StandardCharsets.ISO_8859_1),
                LittleEndian.u16(b, OFF_BYTES_PER_SECTOR, "BPB_BytsPerSec"), b[OFF_SEC_PER_CLUS] & 0xFF,
                LittleEndian.u16(b, OFF_RESERVED, "BPB_RsvdSecCnt"), b[OFF_NUM_FATS] & 0xFF,
                LittleEndian.u16(b, OFF_ROOT_ENT_CNT, "BPB_RootEntCnt"), LittleEndian.u16(b, OFF_TOT_SEC16, "BPB_TotSec16"),
                b[OFF_MEDIA] & 0xFF, LittleEndian.u16(b, OFF_FAT_SZ16, "BPB_FATSz16"),
                LittleEndian.u16(b, OFF_SEC_PER_TRK, "BPB_SecPerTrk"), LittleEndian.u16(b, OFF_NUM_HEADS, "BPB_NumHeads"),
                LittleEndian.u32(b, OFF_HIDD_SEC, "BPB_HiddSec"), LittleEndian.u32(b, OFF_TOT_SEC32, "BPB_TotSec32"),
                LittleEndian.u32(b, OFF_FAT_SZ32, "BPB_FATSz32"), LittleEndian.u16(b, OFF_EXT_FLAGS, "BPB_ExtFlags"),
                LittleEndian.u16(b, OFF_FS_VER, "BPB_FSVer"), LittleEndian.u32(b, OFF_ROOT_CLUS, "BPB_RootClus"),
                LittleEndian.u16(b, OFF_FS_INFO, "BPB_FSInfo"), LittleEndian.u16(b, OFF_BK_BOOT_SEC, "BPB_BkBootSec"),
                b[OFF_DRV_NUM] & 0xFF, b[OFF_BOOT_SIG] & 0xFF, (int) LittleEndian.u32(b, OFF_VOL_ID, "BS_VolID"),
                Arrays.copyOfRange(b, OFF_VOL_LAB, OFF_VOL_LAB + 11), new String(b, OFF_FS_TYPE, 8, StandardCharsets.ISO_8859_1));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FatBootSector s && Arrays.equals(encode(), s.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
