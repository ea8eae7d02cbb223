package dev.cairn.disk;

import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A GPT as {@link GptReader} found it.
 *
 * @param sectorSize logical sector size the table was found with (512 or 4096)
 * @param diskSize   size of the image in bytes
 * @param diskGuid   from the header in use
 * @param primary    the primary header as decoded, or null when LBA 1 holds none
 * @param backup     the backup header as decoded, or null when none was found
 * @param fromBackup whether the entries come from the backup (the primary header or its entries
 *                   were unusable; {@link #problems()} says why)
 * @param entries    the used entries (non-zero type GUID), in entry-array order
 * @param problems   soft problems: damage the reader could work around, and deviations from what
 *                   libfdisk writes (no protective MBR, backup missing or stale, …); empty for a
 *                   healthy disk
 */
public record GptTable(int sectorSize, long diskSize, UUID diskGuid, GptHeader primary, GptHeader backup,
                       boolean fromBackup, List<GptEntry> entries, List<String> problems) {
    public GptTable {
        Objects.requireNonNull(diskGuid, "diskGuid");
        entries = List.copyOf(entries);
        problems = List.copyOf(problems);
    }

    /** The header whose entries are listed. */
    public GptHeader header() {
        return fromBackup ? backup : primary;
    }

    public long firstUsableLba() {
        return header().firstUsableLba();
    }

    public long lastUsableLba() {
        return header().lastUsableLba();
    }

    /** The entry whose partition has this unique GUID, or null. */
    public GptEntry entry(UUID partitionUuid) {
        return entries.stream().filter(e -> e.uuid().equals(partitionUuid)).findFirst().orElse(null);
    }

    /** Byte offset of an entry's partition. */
    public long offset(GptEntry e) {
        return e.firstLba() * sectorSize;
    }

    /** Size of an entry's partition in bytes. */
    public long size(GptEntry e) {
        return e.sectors() * sectorSize;
    }
}
