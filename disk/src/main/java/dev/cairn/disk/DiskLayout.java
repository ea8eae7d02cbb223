package dev.cairn.disk;

import dev.cairn.io.Align;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * Where everything goes on a GPT disk, computed as systemd-repart 252 computes it for
 * {@code --empty=create --size=auto} with fixed-size partitions (ddi-sysext.md §3):
 *
 * <ul>
 *   <li>512-byte sectors; LBA 0 protective MBR, LBA 1 header, LBA 2-33 the 128 entries of 128
 *       bytes; the backup entries at {@code total-33 .. total-2}, the backup header at
 *       {@code total-1}.</li>
 *   <li>First usable LBA 2048 (libfdisk's 1 MiB alignment), or 34 when the whole disk is at most
 *       4 MiB (8192 sectors: libfdisk's "don't use huge offset on small devices"); last usable LBA
 *       {@code total-34}.</li>
 *   <li>Partitions in list order, the first at {@code round_up(first usable LBA × 512, 4096)}
 *       (1 MiB, or 20480 bytes on a small disk), each next one at the previous end rounded up to
 *       4096 — sizes are multiples of 4096, so partitions are back to back.</li>
 *   <li>Total size {@code round_up(1044 KiB, 4096) + Σ sizes} (repart's {@code determine_auto_size},
 *       {@code GPT_METADATA_SIZE}), or {@code minimumSize} rounded up to 4096 when that is larger
 *       (repart's {@code --size=}); extra space stays unpartitioned at the end.</li>
 * </ul>
 *
 * <p>The canonical constructor checks that a layout is consistent (entries inside the usable
 * area, ascending, not overlapping), so a {@link GptWriter} can trust any instance.
 *
 * @param diskGuid       the disk GUID (see {@link RepartUuids#diskUuid})
 * @param totalSize      bytes, a multiple of 512
 * @param firstUsableLba header field FirstUsableLBA
 * @param lastUsableLba  header field LastUsableLBA ({@code total sectors - 34})
 * @param partitions     numbered 1..n in on-disk order
 */
public record DiskLayout(UUID diskGuid, long totalSize, long firstUsableLba, long lastUsableLba,
                         List<PlacedPartition> partitions) {
    public static final int SECTOR_SIZE = 512;
    /** Entries in the partition array (libfdisk's default). */
    public static final int ENTRY_COUNT = 128;
    public static final int ENTRY_SIZE = 128;
    /** Sectors of the entry array: 128 × 128 / 512. */
    public static final int ENTRY_SECTORS = ENTRY_COUNT * ENTRY_SIZE / SECTOR_SIZE;
    /** repart's {@code GPT_METADATA_SIZE}: the space {@code --size=auto} adds for the tables and the 1 MiB head. */
    public static final long GPT_METADATA_SIZE = 1044 * 1024;
    /** Up to this many sectors libfdisk does not align the first usable LBA to 1 MiB. */
    public static final long SMALL_DISK_SECTORS = 4 * 2048;
    private static final long ALIGNED_FIRST_LBA = 2048;
    private static final long UNALIGNED_FIRST_LBA = 2 + ENTRY_SECTORS;

    public DiskLayout {
        Objects.requireNonNull(diskGuid, "diskGuid");
        partitions = List.copyOf(partitions);
        if (totalSize <= 0 || totalSize % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("disk size must be a positive multiple of 512: " + totalSize);
        }
        long sectors = totalSize / SECTOR_SIZE;
        if (lastUsableLba != sectors - 2 - ENTRY_SECTORS) {
            throw new IllegalArgumentException("last usable LBA must be total sectors - 34 = " + (sectors - 34) + ": " + lastUsableLba);
        }
        if (firstUsableLba < UNALIGNED_FIRST_LBA || firstUsableLba > lastUsableLba + 1) {
            throw new IllegalArgumentException("first usable LBA out of range: " + firstUsableLba);
        }
        if (partitions.size() > ENTRY_COUNT) {
            throw new IllegalArgumentException("at most " + ENTRY_COUNT + " partitions: " + partitions.size());
        }
        long next = firstUsableLba;
        Set<UUID> uuids = new HashSet<>();
        for (int i = 0; i < partitions.size(); i++) {
            PlacedPartition p = partitions.get(i);
            if (p.number() != i + 1) {
                throw new IllegalArgumentException("partition " + i + " has number " + p.number() + ", expected " + (i + 1));
            }
            if (p.firstLba() < next || p.lastLba() > lastUsableLba) {
                throw new IllegalArgumentException("partition " + p.number() + " (LBA " + p.firstLba() + ".." + p.lastLba()
                        + ") overlaps its predecessor or lies outside the usable LBAs " + firstUsableLba + ".." + lastUsableLba);
            }
            if (!uuids.add(p.spec().uuid())) {
                throw new IllegalArgumentException("partition UUID used twice: " + p.spec().uuid());
            }
            next = p.lastLba() + 1;
        }
    }

    /**
     * Plans a disk for {@code parts} in this order (see the class comment).
     *
     * @param minimumSize the disk is at least this large (rounded up to 4096); 0 for repart's
     *                    {@code --size=auto}
     */
    public static DiskLayout plan(UUID diskGuid, List<PartitionSpec> parts, long minimumSize) {
        Objects.requireNonNull(diskGuid, "diskGuid");
        Objects.requireNonNull(parts, "parts");
        if (minimumSize < 0) {
            throw new IllegalArgumentException("minimum size must be >= 0: " + minimumSize);
        }
        if (parts.size() > ENTRY_COUNT) {
            throw new IllegalArgumentException("at most " + ENTRY_COUNT + " partitions fit in the GPT: " + parts.size());
        }
        long total = Math.max(autoSize(parts), Align.up(minimumSize, PartitionSpec.GRAIN));
        long sectors = total / SECTOR_SIZE;
        long firstUsable = sectors <= SMALL_DISK_SECTORS ? UNALIGNED_FIRST_LBA : ALIGNED_FIRST_LBA;
        long lastUsable = sectors - 2 - ENTRY_SECTORS;
        long end = (lastUsable + 1) * SECTOR_SIZE / PartitionSpec.GRAIN * PartitionSpec.GRAIN;
        long offset = Align.up(firstUsable * SECTOR_SIZE, PartitionSpec.GRAIN);
        List<PlacedPartition> placed = new ArrayList<>(parts.size());
        for (PartitionSpec p : parts) {
            Objects.requireNonNull(p, "partition");
            long first = offset / SECTOR_SIZE;
            long next = Math.addExact(offset, p.size());
            if (next > end) {
                throw new IllegalStateException("partition does not fit: " + next + " > " + end);
            }
            placed.add(new PlacedPartition(placed.size() + 1, p, offset, first, next / SECTOR_SIZE - 1));
            offset = Align.up(next, PartitionSpec.GRAIN);
        }
        return new DiskLayout(diskGuid, total, firstUsable, lastUsable, placed);
    }

    /** repart 252's {@code --size=auto}: {@code round_up(1044 KiB, 4096) + Σ round_up(size, 4096)}. */
    public static long autoSize(List<PartitionSpec> parts) {
        long sum = Align.up(GPT_METADATA_SIZE, PartitionSpec.GRAIN);
        for (PartitionSpec p : parts) {
            sum = Math.addExact(sum, Align.up(p.size(), PartitionSpec.GRAIN));
        }
        return sum;
    }

    /**
     * The same partitions on a disk whose size is rounded up to a multiple of {@code multiple}
     * (itself a multiple of 4096; 1 MiB for Azure VHDs) — what repart does with that
     * {@code --size=}. The backup GPT moves to the new end.
     */
    public DiskLayout withSizeRoundedTo(long multiple) {
        if (multiple <= 0 || multiple % PartitionSpec.GRAIN != 0) {
            throw new IllegalArgumentException("size multiple must be a positive multiple of 4096: " + multiple);
        }
        long rounded = Math.multiplyExact(Align.ceilDiv(totalSize, multiple), multiple);
        return rounded == totalSize ? this : plan(diskGuid, specs(), rounded);
    }

    /** The partition specs in order. */
    public List<PartitionSpec> specs() {
        return partitions.stream().map(PlacedPartition::spec).toList();
    }

    public long totalSectors() {
        return totalSize / SECTOR_SIZE;
    }

    /** LBA of the backup header: the last sector. */
    public long backupHeaderLba() {
        return totalSectors() - 1;
    }

    /** LBA of the backup entry array: {@code total - 33}. */
    public long backupEntriesLba() {
        return totalSectors() - 1 - ENTRY_SECTORS;
    }
}
