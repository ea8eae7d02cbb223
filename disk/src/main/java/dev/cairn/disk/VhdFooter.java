package dev.cairn.disk;

import dev.cairn.io.FormatException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * The 512-byte footer of a fixed VHD (Microsoft "Virtual Hard Disk Image Format Specification"
 * 1.0; qemu {@code block/vpc.c}; ddi-sysext.md §6): the raw disk followed by this footer is a
 * fixed VHD, as Azure requires. All integers big-endian.
 *
 * <pre>
 * 0x00  8  cookie               "conectix"
 * 0x08  4  features             0x00000002 (reserved bit, always set)
 * 0x0C  4  file format version  0x00010000
 * 0x10  8  data offset          0xFFFFFFFFFFFFFFFF (fixed disk: no dynamic header)
 * 0x18  4  time stamp           seconds since 2000-01-01 00:00:00 UTC
 * 0x1C  4  creator application  "qem2" (see {@link #CREATOR_APPLICATION})
 * 0x20  4  creator version      0x00000001
 * 0x24  4  creator host OS      "Wi2k"
 * 0x28  8  original size        raw disk bytes
 * 0x30  8  current size         raw disk bytes
 * 0x38  2  cylinders            ┐
 * 0x3A  1  heads                ├ disk geometry, the specification's algorithm
 * 0x3B  1  sectors per track    ┘
 * 0x3C  4  disk type            2 = fixed
 * 0x40  4  checksum             one's complement of the byte sum of the footer without it
 * 0x44 16  unique id            UUID bytes in text (big-endian) order, as qemu writes them
 * 0x54  1  saved state          0
 * 0x55 427 reserved             zero
 * </pre>
 */
public record VhdFooter(long features, long formatVersion, long dataOffset, long timestamp, String creatorApplication,
                        long creatorVersion, String creatorHostOs, long originalSize, long currentSize, int cylinders,
                        int heads, int sectorsPerTrack, long diskType, long checksum, UUID uniqueId, int savedState) {
    public static final int SIZE = 512;
    static final byte[] COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
    /**
     * qemu 7.2 takes the virtual size from {@code current size} only for the creator applications
     * {@code "win "}, {@code "qem2"}, {@code "d2v "}, {@code "CTXS"} and {@code "tap\0"}; for any
     * other it multiplies out the CHS geometry, which is usually smaller than the disk. {@code
     * "qem2"} is qemu's own marker for "a non-Microsoft tool that sizes the disk by current size"
     * (what {@code qemu-img convert -o subformat=fixed,force_size}, the conversion Azure's
     * documentation prescribes, writes); {@code "win "} would claim Hyper-V made the file.
     * Hyper-V and Azure read current size whatever the creator.
     */
    public static final String CREATOR_APPLICATION = "qem2";
    public static final long CREATOR_VERSION = 0x0000_0001L;
    public static final String CREATOR_HOST_OS = "Wi2k";
    public static final long FEATURES_RESERVED = 0x0000_0002L;
    public static final long FORMAT_VERSION = 0x0001_0000L;
    public static final long FIXED_DATA_OFFSET = -1L;
    public static final long DISK_TYPE_FIXED = 2;
    /** 2000-01-01T00:00:00Z in Unix seconds: the VHD epoch. */
    public static final long VHD_EPOCH = 946_684_800L;
    /** Azure wants the raw disk size to be a multiple of 1 MiB. */
    public static final long SIZE_ALIGNMENT = 1 << 20;

    static final int OFF_FEATURES = 0x08;
    static final int OFF_FORMAT_VERSION = 0x0C;
    static final int OFF_DATA_OFFSET = 0x10;
    static final int OFF_TIMESTAMP = 0x18;
    static final int OFF_CREATOR_APP = 0x1C;
    static final int OFF_CREATOR_VERSION = 0x20;
    static final int OFF_CREATOR_HOST_OS = 0x24;
    static final int OFF_ORIGINAL_SIZE = 0x28;
    static final int OFF_CURRENT_SIZE = 0x30;
    static final int OFF_CYLINDERS = 0x38;
    static final int OFF_HEADS = 0x3A;
    static final int OFF_SECTORS_PER_TRACK = 0x3B;
    static final int OFF_DISK_TYPE = 0x3C;
    static final int OFF_CHECKSUM = 0x40;
    static final int OFF_UNIQUE_ID = 0x44;
    static final int OFF_SAVED_STATE = 0x54;

    public VhdFooter {
        Objects.requireNonNull(uniqueId, "uniqueId");
        if (creatorApplication.length() != 4 || creatorHostOs.length() != 4) {
            throw new IllegalArgumentException("creator application and host OS are 4 characters each");
        }
    }

    /**
     * The footer of a fixed VHD whose raw part is {@code rawSize} bytes.
     *
     * @param rawSize               a positive multiple of 1 MiB
     * @param timestampEpochSeconds Unix time; stored as seconds since 2000-01-01 (clamped to 0 .. 2^32-1)
     * @return the 512 footer bytes
     */
    public static byte[] fixed(long rawSize, UUID uniqueId, long timestampEpochSeconds) {
        return forFixedDisk(rawSize, uniqueId, timestampEpochSeconds).encode();
    }

    /** The footer record {@link #fixed} encodes. */
    public static VhdFooter forFixedDisk(long rawSize, UUID uniqueId, long timestampEpochSeconds) {
        if (rawSize <= 0 || rawSize % SIZE_ALIGNMENT != 0) {
            throw new IllegalArgumentException("a fixed VHD's raw size must be a positive multiple of 1 MiB (Azure): " + rawSize);
        }
        long ts = Math.min(0xFFFF_FFFFL, Math.max(0, timestampEpochSeconds - VHD_EPOCH));
        int[] chs = geometry(rawSize / 512);
        VhdFooter f = new VhdFooter(FEATURES_RESERVED, FORMAT_VERSION, FIXED_DATA_OFFSET, ts, CREATOR_APPLICATION,
                CREATOR_VERSION, CREATOR_HOST_OS, rawSize, rawSize, chs[0], chs[1], chs[2], DISK_TYPE_FIXED, 0, uniqueId, 0);
        return f.withChecksum(checksum(f.encode()));
    }

    VhdFooter withChecksum(long c) {
        return new VhdFooter(features, formatVersion, dataOffset, timestamp, creatorApplication, creatorVersion,
                creatorHostOs, originalSize, currentSize, cylinders, heads, sectorsPerTrack, diskType, c, uniqueId, savedState);
    }

    /**
     * CHS geometry of the VHD specification's appendix ("CHS calculation") for {@code sectors}
     * 512-byte sectors: {cylinders, heads, sectors per track}.
     */
    static int[] geometry(long sectors) {
        long total = Math.min(sectors, 65535L * 16 * 255);
        long spt;
        long heads;
        long cth;
        if (total >= 65535L * 16 * 63) {
            spt = 255;
            heads = 16;
            cth = total / spt;
        } else {
            spt = 17;
            cth = total / spt;
            heads = (cth + 1023) / 1024;
            if (heads < 4) {
                heads = 4;
            }
            if (cth >= heads * 1024 || heads > 16) {
                spt = 31;
                heads = 16;
                cth = total / spt;
            }
            if (cth >= heads * 1024) {
                spt = 63;
                heads = 16;
                cth = total / spt;
            }
        }
        return new int[] {Math.toIntExact(cth / heads), Math.toIntExact(heads), Math.toIntExact(spt)};
    }

    /** One's complement of the sum of all bytes, the checksum field counted as zero. */
    static long checksum(byte[] footer) {
        long sum = 0;
        for (int i = 0; i < SIZE; i++) {
            if (i < OFF_CHECKSUM || i >= OFF_CHECKSUM + 4) {
                sum += footer[i] & 0xFF;
            }
        }
        return ~sum & 0xFFFF_FFFFL;
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.put(COOKIE);
        b.putInt(OFF_FEATURES, (int) features);
        b.putInt(OFF_FORMAT_VERSION, (int) formatVersion);
        b.putLong(OFF_DATA_OFFSET, dataOffset);
        b.putInt(OFF_TIMESTAMP, (int) timestamp);
        b.put(OFF_CREATOR_APP, creatorApplication.getBytes(StandardCharsets.ISO_8859_1));
        b.putInt(OFF_CREATOR_VERSION, (int) creatorVersion);
        b.put(OFF_CREATOR_HOST_OS, creatorHostOs.getBytes(StandardCharsets.ISO_8859_1));
        b.putLong(OFF_ORIGINAL_SIZE, originalSize);
        b.putLong(OFF_CURRENT_SIZE, currentSize);
        b.putShort(OFF_CYLINDERS, (short) cylinders);
        b.put(OFF_HEADS, (byte) heads);
        b.put(OFF_SECTORS_PER_TRACK, (byte) sectorsPerTrack);
        b.putInt(OFF_DISK_TYPE, (int) diskType);
        b.putInt(OFF_CHECKSUM, (int) checksum);
        b.putLong(OFF_UNIQUE_ID, uniqueId.getMostSignificantBits());
        b.putLong(OFF_UNIQUE_ID + 8, uniqueId.getLeastSignificantBits());
        b.put(OFF_SAVED_STATE, (byte) savedState);
        return b.array();
    }

    /** Decodes and checks a footer (cookie and checksum). */
    public static VhdFooter decode(byte[] f) throws FormatException {
        if (f.length != SIZE) {
            throw new FormatException("footer", f.length + " bytes", "a VHD footer is 512 bytes");
        }
        if (!Arrays.equals(f, 0, COOKIE.length, COOKIE, 0, COOKIE.length)) {
            throw new FormatException(0, "cookie", null, "no VHD footer (cookie \"conectix\" missing)");
        }
        ByteBuffer b = ByteBuffer.wrap(f);
        long stored = b.getInt(OFF_CHECKSUM) & 0xFFFF_FFFFL;
        long computed = checksum(f);
        if (stored != computed) {
            throw new FormatException(OFF_CHECKSUM, "checksum", String.format("0x%08x", stored),
                    String.format("VHD footer checksum mismatch (computed 0x%08x)", computed));
        }
        return new VhdFooter(b.getInt(OFF_FEATURES) & 0xFFFF_FFFFL, b.getInt(OFF_FORMAT_VERSION) & 0xFFFF_FFFFL,
                b.getLong(OFF_DATA_OFFSET), b.getInt(OFF_TIMESTAMP) & 0xFFFF_FFFFL,
                new String(f, OFF_CREATOR_APP, 4, StandardCharsets.ISO_8859_1), b.getInt(OFF_CREATOR_VERSION) & 0xFFFF_FFFFL,
                new String(f, OFF_CREATOR_HOST_OS, 4, StandardCharsets.ISO_8859_1), b.getLong(OFF_ORIGINAL_SIZE),
                b.getLong(OFF_CURRENT_SIZE), b.getShort(OFF_CYLINDERS) & 0xFFFF, f[OFF_HEADS] & 0xFF,
                f[OFF_SECTORS_PER_TRACK] & 0xFF, b.getInt(OFF_DISK_TYPE) & 0xFFFF_FFFFL, stored,
                new UUID(b.getLong(OFF_UNIQUE_ID), b.getLong(OFF_UNIQUE_ID + 8)), f[OFF_SAVED_STATE] & 0xFF);
    }
}
