package dev.cairn.disk;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * A written disk: its size, the SHA-256 of all its bytes, and each partition's SHA-256 (over the
 * whole partition: content and zero padding) — by-products of writing, nothing is re-read. The
 * SHA-256s are null when it was written without digests ({@link GptWriter#writeUndigested}).
 */
public record DiskResult(long totalSize, byte[] sha256, List<Partition> partitions) {
    public DiskResult {
        sha256 = sha256 == null ? null : sha256.clone();
        partitions = List.copyOf(partitions);
    }

    @Override
    public byte[] sha256() {
        return sha256 == null ? null : sha256.clone();
    }

    public String sha256Hex() {
        return sha256 == null ? null : HexFormat.of().formatHex(sha256);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DiskResult r && totalSize == r.totalSize && Arrays.equals(sha256, r.sha256)
                && partitions.equals(r.partitions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(totalSize, Arrays.hashCode(sha256), partitions);
    }

    @Override
    public String toString() {
        return "DiskResult[totalSize=" + totalSize + ", sha256=" + sha256Hex() + ", partitions=" + partitions + "]";
    }

    /** One partition as written: number, byte offset, size, SHA-256 of its bytes, bytes taken from its content file. */
    public record Partition(int number, long offset, long size, byte[] sha256, long contentBytes) {
        public Partition {
            sha256 = sha256 == null ? null : sha256.clone();
        }

        @Override
        public byte[] sha256() {
            return sha256 == null ? null : sha256.clone();
        }

        public String sha256Hex() {
            return sha256 == null ? null : HexFormat.of().formatHex(sha256);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Partition p && number == p.number && offset == p.offset && size == p.size
                    && Arrays.equals(sha256, p.sha256) && contentBytes == p.contentBytes;
        }

        @Override
        public int hashCode() {
            return Objects.hash(number, offset, size, Arrays.hashCode(sha256));
        }

        @Override
        public String toString() {
            return "Partition[number=" + number + ", offset=" + offset + ", size=" + size + ", sha256=" + sha256Hex()
                    + ", contentBytes=" + contentBytes + "]";
        }
    }
}
