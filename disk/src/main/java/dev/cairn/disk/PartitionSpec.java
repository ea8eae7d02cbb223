package dev.cairn.disk;

import java.nio.file.Path;
import java.util.Objects;
import java.util.UUID;

/**
 * One partition of a disk to write: its GPT type and unique GUIDs, name, attribute bits, size and
 * content (ddi-sysext.md §3).
 *
 * @param type       partition type GUID (see {@link DpsType})
 * @param uuid       unique partition GUID (see {@link RepartUuids})
 * @param label      partition name, at most 36 UTF-16 code units, no NUL ({@code GPT_LABEL_MAX})
 * @param attributes GPT attribute bits ({@link DpsType#READ_ONLY}, …)
 * @param size       partition size in bytes: positive, a multiple of 4096 (repart's grain)
 * @param content    file copied to the start of the partition (the rest is zero-filled), or null
 *                   for an all-zero partition; its length is checked against {@code size} when
 *                   the disk is written
 * @param contentOffset where in {@code content} the partition's bytes start (0: the whole file)
 * @param contentLength how many bytes of {@code content} from there (-1: to the end of the file), so
 *                   that one file can feed several partitions (a SquashFS with its appended
 *                   dm-verity tree: the root and root-verity partitions)
 */
public record PartitionSpec(UUID type, UUID uuid, String label, long attributes, long size, Path content, long contentOffset,
                            long contentLength) {
    /** {@code GPT_LABEL_MAX}: UTF-16 code units in a GPT partition name. */
    public static final int MAX_LABEL_UNITS = 36;
    /** repart's grain: partitions start and end on 4 KiB boundaries. */
    public static final long GRAIN = 4096;

    public PartitionSpec {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(label, "label");
        if (type.equals(Guids.ZERO)) {
            throw new IllegalArgumentException("the all-zero type GUID marks an unused entry; it cannot be a partition's type");
        }
        if (label.length() > MAX_LABEL_UNITS) {
            throw new IllegalArgumentException("partition label has " + label.length() + " UTF-16 code units, at most "
                    + MAX_LABEL_UNITS + " fit in a GPT entry: " + label);
        }
        if (label.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("partition label contains a NUL character: " + label.replace('\0', '?'));
        }
        if (size <= 0 || size % GRAIN != 0) {
            throw new IllegalArgumentException("partition size must be a positive multiple of 4096: " + size);
        }
        if (contentOffset < 0 || contentLength < -1 || (content == null && (contentOffset != 0 || contentLength != -1))) {
            throw new IllegalArgumentException("content region " + contentOffset + "+" + contentLength + " is not a region of a file");
        }
    }

    /** A partition holding the whole of {@code content} (or zeros when null). */
    public PartitionSpec(UUID type, UUID uuid, String label, long attributes, long size, Path content) {
        this(type, uuid, label, attributes, size, content, 0, -1);
    }

    /** This partition holding {@code length} bytes of its content file from {@code offset}. */
    public PartitionSpec withContentRegion(long offset, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("a region's length must not be negative: " + length);
        }
        return new PartitionSpec(type, uuid, label, attributes, size, content, offset, length);
    }

    /** A partition whose type, default label and nothing else come from {@code type}. */
    public static PartitionSpec of(DpsType type, UUID uuid, long attributes, long size, Path content) {
        return new PartitionSpec(type.uuid(), uuid, type.systemdName(), attributes, size, content);
    }
}
