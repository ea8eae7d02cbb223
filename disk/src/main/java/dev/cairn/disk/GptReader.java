package dev.cairn.disk;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Reads a GPT from an untrusted image. Every LBA and size is checked against the image size
 * before it is used, both headers' CRCs and the entry arrays' CRCs are checked, entry arrays are
 * capped at {@value #MAX_ENTRIES} entries of at most {@value #MAX_ENTRY_SIZE} bytes (so at most
 * two 4 MiB arrays are ever allocated), and a partition that is inverted, overlaps another or
 * lies outside the usable LBAs (or past the end of the image) is a {@link FormatException} naming
 * the field and value. The work is bounded by those caps; nothing loops on input values.
 *
 * <p>Damage policy: the primary header and entries are used when they are intact. When they are
 * not but the backup is, the backup is used and {@link GptTable#fromBackup()} is set, with the
 * reason among {@link GptTable#problems()} — the reader never silently prefers the backup. When
 * neither is intact, the primary's failure is thrown. A missing, stale or inconsistent backup, a
 * missing protective MBR, a non-1.0 revision and similar deviations are soft problems.
 *
 * <p>Sector size: 512, or 4096 when LBA 1 at 512 holds no header but LBA 1 at 4096 does
 * (the DDI specification's probe).
 */
public final class GptReader {
    public static final int MAX_ENTRIES = 1024;
    public static final int MAX_ENTRY_SIZE = 4096;

    private GptReader() {
    }

    public static GptTable read(SeekableByteChannel in) throws IOException {
        return read(in, in.size());
    }

    /**
     * The GPT of a disk that is the first {@code diskSize} bytes of {@code in} (a fixed VHD: the
     * footer follows the disk): the backup header is looked for at the end of those bytes.
     */
    public static GptTable read(SeekableByteChannel in, long diskSize) throws IOException {
        Objects.requireNonNull(in, "in");
        if (diskSize < 0 || diskSize > in.size()) {
            throw new FormatException(0, "disk size", diskSize, "not within the image's " + in.size() + " bytes");
        }
        long size = diskSize;
        if (size < 2 * 512) {
            throw new FormatException(0, "disk size", size, "image too small for a GPT");
        }
        List<String> problems = new ArrayList<>();
        byte[] mbr = readAt(in, size, 0, 512, "protective MBR");
        int sectorSize;
        boolean primaryPresent;
        if (hasSignature(in, size, 512)) {
            sectorSize = 512;
            primaryPresent = true;
        } else if (size >= 3 * 4096 && hasSignature(in, size, 4096)) {
            sectorSize = 4096;
            primaryPresent = true;
        } else if (hasSignature(in, size, size / 512 * 512 - 512)) {
            sectorSize = 512;
            primaryPresent = false;
        } else if (size >= 3 * 4096 && hasSignature(in, size, size / 4096 * 4096 - 4096)) {
            sectorSize = 4096;
            primaryPresent = false;
        } else {
            throw new FormatException(512, "signature", null, "no GPT header (\"EFI PART\") at LBA 1 or at the last LBA");
        }
        long sectors = size / sectorSize;
        if (size % sectorSize != 0) {
            problems.add("image size " + size + " is not a multiple of the " + sectorSize + "-byte sector; the last "
                    + size % sectorSize + " bytes are ignored");
        }
        checkMbr(mbr, sectors, problems);

        Side primary = new Side("primary");
        if (primaryPresent) {
            primary.load(in, size, sectorSize, 1, sectors);
        } else {
            primary.failure = new FormatException(sectorSize, "signature", null, "no primary GPT header (\"EFI PART\") at LBA 1");
        }
        long backupLba = sectors - 1;
        if (primary.header != null && primary.header.alternateLba() != sectors - 1) {
            long alt = primary.header.alternateLba();
            if (alt > 1 && alt < sectors) {
                problems.add("primary header's alternate_lba=" + alt + " is not the last LBA " + (sectors - 1)
                        + " (image grown after the GPT was written?)");
                backupLba = alt;
            } else {
                problems.add("primary header's alternate_lba=" + Long.toUnsignedString(alt) + " lies outside the "
                        + sectors + "-sector image (image truncated?)");
            }
        }
        Side backup = new Side("backup");
        if (hasSignature(in, size, backupLba * sectorSize)) {
            backup.load(in, size, sectorSize, backupLba, sectors);
        } else if (backupLba != sectors - 1 && hasSignature(in, size, (sectors - 1) * sectorSize)) {
            backup.load(in, size, sectorSize, sectors - 1, sectors);
        } else {
            backup.failure = new FormatException(backupLba * sectorSize, "signature", null,
                    "no backup GPT header (\"EFI PART\") at LBA " + backupLba);
        }

        Side used;
        if (primary.ok()) {
            used = primary;
            if (!backup.ok()) {
                problems.add("backup GPT unusable: " + backup.failure.getMessage());
            } else {
                compare(primary, backup, problems);
            }
        } else if (backup.ok()) {
            used = backup;
            problems.add("primary GPT unusable, entries read from the backup: " + primary.failure.getMessage());
        } else {
            throw primary.failure;
        }
        if (used.header.revision() != GptHeader.REVISION_1_0) {
            problems.add("header revision 0x" + Long.toHexString(used.header.revision()) + " is not 1.0");
        }
        List<GptEntry> entries = checkEntries(used, sectorSize, problems);
        return new GptTable(sectorSize, size, used.header.diskGuid(), primary.header, backup.header, used == backup,
                entries, problems);
    }

    /** One header with its entry array, or the reason it is unusable. */
    private static final class Side {
        final String name;
        GptHeader header;
        byte[] entries;
        FormatException failure;

        Side(String name) {
            this.name = name;
        }

        boolean ok() {
            return failure == null;
        }

        void load(SeekableByteChannel in, long size, int sectorSize, long lba, long sectors) throws IOException {
            long base = lba * sectorSize;
            byte[] sector = readAt(in, size, base, sectorSize, name + " GPT header");
            try {
                header = GptHeader.decode(sector, base);
                validate(sector, base, lba, sectorSize, sectors);
                long bytes = header.entryCount() * header.entrySize();
                entries = readAt(in, size, header.entriesLba() * sectorSize, Math.toIntExact(bytes), name + " entry array");
                CRC32 crc = new CRC32();
                crc.update(entries);
                if (crc.getValue() != header.entriesCrc32()) {
                    throw new FormatException(header.entriesLba() * sectorSize, "partition_entry_array_crc32",
                            hex(header.entriesCrc32()), name + " entry array CRC32 mismatch (computed " + hex(crc.getValue()) + ")");
                }
            } catch (FormatException e) {
                failure = e;
                entries = null;
            }
        }

        private void validate(byte[] sector, long base, long lba, int sectorSize, long sectors) throws FormatException {
            GptHeader h = header;
            if (h.headerSize() < GptHeader.SIZE || h.headerSize() > sectorSize) {
                throw new FormatException(base + GptHeader.OFF_HEADER_SIZE, "header_size", h.headerSize(),
                        name + " header size must be between 92 and the sector size " + sectorSize);
            }
            if (!GptHeader.crcMatches(sector, (int) h.headerSize(), h.headerCrc32())) {
                throw new FormatException(base + GptHeader.OFF_HEADER_CRC, "header_crc32", hex(h.headerCrc32()),
                        name + " header CRC32 mismatch");
            }
            if (h.myLba() != lba) {
                throw new FormatException(base + GptHeader.OFF_MY_LBA, "my_lba", Long.toUnsignedString(h.myLba()),
                        name + " header is at LBA " + lba + " but says it is elsewhere");
            }
            if (h.entryCount() > MAX_ENTRIES) {
                throw new FormatException(base + GptHeader.OFF_ENTRY_COUNT, "number_of_partition_entries", h.entryCount(),
                        "more than " + MAX_ENTRIES + " partition entries");
            }
            long es = h.entrySize();
            if (es < GptEntry.SIZE || es > MAX_ENTRY_SIZE || Long.bitCount(es) != 1) {
                throw new FormatException(base + GptHeader.OFF_ENTRY_SIZE, "size_of_partition_entry", es,
                        "partition entry size must be 128 × 2^n and at most " + MAX_ENTRY_SIZE);
            }
            long first = h.firstUsableLba();
            long last = h.lastUsableLba();
            if (first < 0 || last < 0 || last >= sectors || first > last) {
                throw new FormatException(base + GptHeader.OFF_FIRST_USABLE, "first_usable_lba..last_usable_lba",
                        Long.toUnsignedString(first) + ".." + Long.toUnsignedString(last),
                        name + " usable LBA range is inverted or outside the " + sectors + "-sector image");
            }
            long arraySectors = (h.entryCount() * es + sectorSize - 1) / sectorSize;
            long el = h.entriesLba();
            if (el < 0 || el >= sectors || el + arraySectors > sectors) {
                throw new FormatException(base + GptHeader.OFF_ENTRIES_LBA, "partition_entry_lba", Long.toUnsignedString(el),
                        name + " entry array lies outside the " + sectors + "-sector image");
            }
            boolean isPrimary = lba == 1;
            boolean clear = isPrimary
                    ? el >= 2 && el + arraySectors <= first
                    : el > last && el + arraySectors <= lba;
            if (!clear) {
                throw new FormatException(base + GptHeader.OFF_ENTRIES_LBA, "partition_entry_lba", el,
                        name + " entry array (" + arraySectors + " sectors) overlaps a header or the usable LBAs "
                                + first + ".." + last);
            }
            boolean alternateClear = !isPrimary || Long.compareUnsigned(h.alternateLba(), last + arraySectors) > 0;
            if (first < 2 + arraySectors || !alternateClear) {
                throw new FormatException(base + GptHeader.OFF_FIRST_USABLE, "first_usable_lba..last_usable_lba",
                        first + ".." + last, name + " usable LBAs overlap the MBR, a header or an entry array ("
                                + arraySectors + " sectors each)");
            }
        }
    }

    private static void compare(Side p, Side b, List<String> problems) {
        GptHeader x = p.header;
        GptHeader y = b.header;
        if (y.alternateLba() != 1) {
            problems.add("backup header's alternate_lba=" + Long.toUnsignedString(y.alternateLba()) + " is not 1");
        }
        if (!x.diskGuid().equals(y.diskGuid())) {
            problems.add("primary and backup disk GUIDs differ: " + x.diskGuid() + " / " + y.diskGuid());
        }
        if (x.firstUsableLba() != y.firstUsableLba() || x.lastUsableLba() != y.lastUsableLba()) {
            problems.add("primary and backup usable LBAs differ: " + x.firstUsableLba() + ".." + x.lastUsableLba() + " / "
                    + y.firstUsableLba() + ".." + y.lastUsableLba());
        }
        if (x.entryCount() != y.entryCount() || x.entrySize() != y.entrySize() || !Arrays.equals(p.entries, b.entries)) {
            problems.add("primary and backup entry arrays differ");
        }
    }

    private static List<GptEntry> checkEntries(Side s, int sectorSize, List<String> problems) throws FormatException {
        GptHeader h = s.header;
        int es = (int) h.entrySize();
        long arrayBase = h.entriesLba() * sectorSize;
        List<GptEntry> used = new ArrayList<>();
        for (int i = 0; i < h.entryCount(); i++) {
            int off = i * es;
            if (GptEntry.unused(s.entries, off)) {
                continue;
            }
            GptEntry e = GptEntry.decode(s.entries, off, i + 1);
            long at = arrayBase + off;
            if (e.firstLba() < 0 || e.lastLba() < 0 || e.firstLba() > e.lastLba()) {
                throw new FormatException(at + GptEntry.OFF_FIRST_LBA, "partition " + (i + 1) + " first_lba..last_lba",
                        Long.toUnsignedString(e.firstLba()) + ".." + Long.toUnsignedString(e.lastLba()), "inverted partition");
            }
            if (e.firstLba() < h.firstUsableLba() || e.lastLba() > h.lastUsableLba()) {
                throw new FormatException(at + GptEntry.OFF_FIRST_LBA, "partition " + (i + 1) + " first_lba..last_lba",
                        e.firstLba() + ".." + e.lastLba(), "partition outside the usable LBAs " + h.firstUsableLba() + ".."
                                + h.lastUsableLba());
            }
            used.add(e);
        }
        List<GptEntry> sorted = new ArrayList<>(used);
        sorted.sort(Comparator.comparingLong(GptEntry::firstLba));
        for (int i = 1; i < sorted.size(); i++) {
            GptEntry a = sorted.get(i - 1);
            GptEntry b = sorted.get(i);
            if (b.firstLba() <= a.lastLba()) {
                throw new FormatException(arrayBase + (long) (b.number() - 1) * es, "partition " + b.number() + " first_lba",
                        b.firstLba(), "partitions " + a.number() + " (" + a.firstLba() + ".." + a.lastLba() + ") and "
                                + b.number() + " (" + b.firstLba() + ".." + b.lastLba() + ") overlap");
            }
        }
        Set<UUID> seen = new HashSet<>();
        for (GptEntry e : used) {
            if (!seen.add(e.uuid())) {
                problems.add("partition " + e.number() + " has the same unique GUID as an earlier one: " + e.uuid());
            }
        }
        return used;
    }

    private static void checkMbr(byte[] mbr, long sectors, List<String> problems) {
        if ((mbr[510] & 0xFF) != 0x55 || (mbr[511] & 0xFF) != 0xAA) {
            problems.add("LBA 0 holds no MBR signature 55 AA (no protective MBR)");
            return;
        }
        int protective = 0;
        int others = 0;
        for (int i = 0; i < 4; i++) {
            int r = ProtectiveMbr.OFF_RECORD + 16 * i;
            int type = mbr[r + 4] & 0xFF;
            if (type == ProtectiveMbr.OS_TYPE_GPT) {
                protective++;
            } else if (type != 0) {
                others++;
            }
        }
        if (protective == 0) {
            problems.add("the MBR has no 0xEE (GPT protective) partition record");
        } else if (others > 0) {
            problems.add("hybrid MBR: " + others + " partition record(s) besides the protective one");
        }
    }

    private static boolean hasSignature(SeekableByteChannel in, long size, long pos) throws IOException {
        if (pos < 0 || pos + 8 > size) {
            return false;
        }
        byte[] b = readAt(in, size, pos, 8, "signature");
        return Arrays.equals(b, GptHeader.SIGNATURE);
    }

    static byte[] readAt(SeekableByteChannel in, long size, long pos, int len, String what) throws IOException {
        if (pos < 0 || len < 0 || pos > size - len) {
            throw new FormatException(pos, what, len + " bytes", "lies past the end of the " + size + "-byte image");
        }
        byte[] b = new byte[len];
        ByteBuffer bb = ByteBuffer.wrap(b);
        in.position(pos);
        while (bb.hasRemaining()) {
            if (in.read(bb) < 0) {
                throw new FormatException(pos, what, len + " bytes", "image ended early");
            }
        }
        return b;
    }

    private static String hex(long v) {
        return String.format("0x%08x", v);
    }
}
