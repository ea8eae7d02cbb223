package dev.cairn.pipeline.disk;

import dev.cairn.disk.DiskLayout;
import dev.cairn.disk.DiskResult;
import dev.cairn.disk.DpsType;
import dev.cairn.disk.PlacedPartition;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/**
 * One partition of a disk image cairn wrote, as a build's manifest and {@code cairn sysext create}
 * report it.
 *
 * @param number     partition number (1-based GPT entry)
 * @param designator the DPS type name ({@code root-x86-64-verity}, …), {@code unknown} for other types
 * @param type       partition type GUID
 * @param uuid       unique partition GUID
 * @param label      partition name
 * @param attributes GPT attribute bits
 * @param offset     first byte on the disk
 * @param size       bytes
 * @param sha256     SHA-256 of the partition's bytes (content and padding), lower-case hex
 */
public record WrittenPartition(int number, String designator, UUID type, UUID uuid, String label, long attributes, long offset,
                               long size, String sha256) {
    public WrittenPartition {
        Objects.requireNonNull(designator, "designator");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(sha256, "sha256");
    }

    /** The attribute bits as {@code 0x} and 16 hex digits. */
    public String attributesHex() {
        return String.format(Locale.ROOT, "0x%016x", attributes);
    }

    /** The partitions of {@code layout} as {@code written} reports them (same order). */
    public static List<WrittenPartition> of(DiskLayout layout, DiskResult written) {
        if (layout.partitions().size() != written.partitions().size()) {
            throw new IllegalArgumentException("the layout has " + layout.partitions().size() + " partitions, the result "
                    + written.partitions().size());
        }
        List<WrittenPartition> out = new ArrayList<>();
        for (int i = 0; i < layout.partitions().size(); i++) {
            PlacedPartition p = layout.partitions().get(i);
            DiskResult.Partition r = written.partitions().get(i);
            out.add(new WrittenPartition(p.number(), DpsType.of(p.spec().type()).map(DpsType::systemdName).orElse("unknown"),
                    p.spec().type(), p.spec().uuid(), p.spec().label(), p.spec().attributes(), p.offset(), p.size(), r.sha256Hex()));
        }
        return List.copyOf(out);
    }
}
