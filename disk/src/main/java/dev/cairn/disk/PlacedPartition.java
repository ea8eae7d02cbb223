package dev.cairn.disk;

import java.util.Objects;

/**
 * A partition with its place on the disk: number (1-based, the GPT entry index + 1), byte offset
 * and inclusive LBA range in 512-byte sectors.
 */
public record PlacedPartition(int number, PartitionSpec spec, long offset, long firstLba, long lastLba) {
    public PlacedPartition {
        Objects.requireNonNull(spec, "spec");
        if (number < 1 || number > DiskLayout.ENTRY_COUNT) {
            throw new IllegalArgumentException("partition number out of range: " + number);
        }
        if (offset != firstLba * DiskLayout.SECTOR_SIZE || spec.size() != (lastLba - firstLba + 1) * DiskLayout.SECTOR_SIZE) {
            throw new IllegalArgumentException("partition " + number + ": offset/LBAs disagree with its size");
        }
    }

    /** Size in bytes. */
    public long size() {
        return spec.size();
    }

    /** Offset of the first byte after the partition. */
    public long end() {
        return offset + spec.size();
    }
}
