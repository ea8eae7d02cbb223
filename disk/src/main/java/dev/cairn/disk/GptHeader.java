package dev.cairn.disk;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * A GPT header (UEFI 2.10 §5.3.2; ddi-sysext.md §3.1), little-endian, 92 bytes at the start of
 * its sector (the rest of the sector is zero).
 *
 * <pre>
 * 0x00  8  signature             "EFI PART"
 * 0x08  4  revision              0x00010000
 * 0x0C  4  header size           92
 * 0x10  4  header CRC32          zlib CRC-32 of the header-size bytes with this field zero
 * 0x14  4  reserved              0
 * 0x18  8  MyLBA                 1 (primary) or last LBA (backup)
 * 0x20  8  AlternateLBA          the other header's LBA
 * 0x28  8  FirstUsableLBA
 * 0x30  8  LastUsableLBA
 * 0x38 16  DiskGUID              mixed-endian
 * 0x48  8  PartitionEntryLBA     2 (primary) or total-33 (backup)
 * 0x50  4  NumberOfPartitionEntries
 * 0x54  4  SizeOfPartitionEntry
 * 0x58  4  PartitionEntryArrayCRC32
 * </pre>
 */
public record GptHeader(long revision, long headerSize, long headerCrc32, long myLba, long alternateLba,
                        long firstUsableLba, long lastUsableLba, UUID diskGuid, long entriesLba, long entryCount,
                        long entrySize, long entriesCrc32) {
    public static final int SIZE = 92;
    public static final long REVISION_1_0 = 0x0001_0000L;
    static final byte[] SIGNATURE = "EFI PART".getBytes(StandardCharsets.US_ASCII);
    static final int OFF_SIGNATURE = 0x00;
    static final int OFF_REVISION = 0x08;
    static final int OFF_HEADER_SIZE = 0x0C;
    static final int OFF_HEADER_CRC = 0x10;
    static final int OFF_RESERVED = 0x14;
    static final int OFF_MY_LBA = 0x18;
    static final int OFF_ALTERNATE_LBA = 0x20;
    static final int OFF_FIRST_USABLE = 0x28;
    static final int OFF_LAST_USABLE = 0x30;
    static final int OFF_DISK_GUID = 0x38;
    static final int OFF_ENTRIES_LBA = 0x48;
    static final int OFF_ENTRY_COUNT = 0x50;
    static final int OFF_ENTRY_SIZE = 0x54;
    static final int OFF_ENTRIES_CRC = 0x58;

    public GptHeader {
        Objects.requireNonNull(diskGuid, "diskGuid");
    }

    /** A revision-1.0, 92-byte header with its CRC computed. */
    static GptHeader create(long myLba, long alternateLba, long firstUsableLba, long lastUsableLba, UUID diskGuid,
                            long entriesLba, long entryCount, long entrySize, long entriesCrc32) {
        GptHeader h = new GptHeader(REVISION_1_0, SIZE, 0, myLba, alternateLba, firstUsableLba, lastUsableLba, diskGuid,
                entriesLba, entryCount, entrySize, entriesCrc32);
        return h.withHeaderCrc32(h.computeCrc32());
    }

    GptHeader withHeaderCrc32(long crc) {
        return new GptHeader(revision, headerSize, crc, myLba, alternateLba, firstUsableLba, lastUsableLba, diskGuid,
                entriesLba, entryCount, entrySize, entriesCrc32);
    }

    /** The 92 header bytes. */
    public byte[] encode() {
        byte[] b = new byte[SIZE];
        System.arraycopy(SIGNATURE, 0, b, OFF_SIGNATURE, SIGNATURE.length);
        LittleEndian.putU32(b, OFF_REVISION, revision);
        LittleEndian.putU32(b, OFF_HEADER_SIZE, headerSize);
        LittleEndian.putU32(b, OFF_HEADER_CRC, headerCrc32);
        LittleEndian.putU64(b, OFF_MY_LBA, myLba);
        LittleEndian.putU64(b, OFF_ALTERNATE_LBA, alternateLba);
        LittleEndian.putU64(b, OFF_FIRST_USABLE, firstUsableLba);
        LittleEndian.putU64(b, OFF_LAST_USABLE, lastUsableLba);
        Guids.putMixedEndian(b, OFF_DISK_GUID, diskGuid);
        LittleEndian.putU64(b, OFF_ENTRIES_LBA, entriesLba);
        LittleEndian.putU32(b, OFF_ENTRY_COUNT, entryCount);
        LittleEndian.putU32(b, OFF_ENTRY_SIZE, entrySize);
        LittleEndian.putU32(b, OFF_ENTRIES_CRC, entriesCrc32);
        return b;
    }

    /** The header in a zero-padded sector of {@code sectorSize} bytes. */
    byte[] encodeSector(int sectorSize) {
        return Arrays.copyOf(encode(), sectorSize);
    }

    /** CRC32 of this header as encoded with the CRC field zero (only meaningful for 92-byte headers). */
    long computeCrc32() {
        byte[] b = withHeaderCrc32(0).encode();
        CRC32 crc = new CRC32();
        crc.update(b, 0, SIZE);
        return crc.getValue();
    }

    /**
     * Decodes the header at the start of {@code sector} without judging its values, except that
     * the signature must be there. The header CRC is checked by {@link #crcMatches}.
     *
     * @param base the sector's offset in its file, for messages
     */
    static GptHeader decode(byte[] sector, long base) throws FormatException {
        if (sector.length < SIZE) {
            throw new FormatException(base, "header", sector.length + " bytes", "GPT header is truncated");
        }
        if (!Arrays.equals(sector, 0, SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length)) {
            throw new FormatException(base, "signature", null, "no GPT header signature \"EFI PART\"");
        }
        return new GptHeader(LittleEndian.u32(sector, OFF_REVISION, "revision"),
                LittleEndian.u32(sector, OFF_HEADER_SIZE, "header_size"),
                LittleEndian.u32(sector, OFF_HEADER_CRC, "header_crc32"),
                LittleEndian.u64(sector, OFF_MY_LBA, "my_lba"),
                LittleEndian.u64(sector, OFF_ALTERNATE_LBA, "alternate_lba"),
                LittleEndian.u64(sector, OFF_FIRST_USABLE, "first_usable_lba"),
                LittleEndian.u64(sector, OFF_LAST_USABLE, "last_usable_lba"),
                Guids.getMixedEndian(sector, OFF_DISK_GUID),
                LittleEndian.u64(sector, OFF_ENTRIES_LBA, "partition_entry_lba"),
                LittleEndian.u32(sector, OFF_ENTRY_COUNT, "number_of_partition_entries"),
                LittleEndian.u32(sector, OFF_ENTRY_SIZE, "size_of_partition_entry"),
                LittleEndian.u32(sector, OFF_ENTRIES_CRC, "partition_entry_array_crc32"));
    }

    /** Whether the CRC field matches the first {@code headerSize} bytes of {@code sector} (which must be in range). */
    static boolean crcMatches(byte[] sector, int headerSize, long expected) {
        byte[] copy = Arrays.copyOf(sector, headerSize);
        LittleEndian.putU32(copy, OFF_HEADER_CRC, 0);
        CRC32 crc = new CRC32();
        crc.update(copy, 0, headerSize);
        return crc.getValue() == expected;
    }
}
