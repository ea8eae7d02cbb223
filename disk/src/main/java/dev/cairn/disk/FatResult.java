package dev.cairn.disk;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A written FAT32 image: its geometry, clusters in use, and the SHA-256 of the image bytes (a
 * by-product of writing).
 */
public record FatResult(FatGeometry geometry, long usedClusters, long files, long directories, byte[] sha256) {
    public FatResult {
        Objects.requireNonNull(geometry, "geometry");
        sha256 = sha256.clone();
    }

    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    public String sha256Hex() {
        return HexFormat.of().formatHex(sha256);
    }

    /** Bytes written: the size given to the writer. */
    public long size() {
        return geometry.sizeBytes();
    }

    public long freeClusters() {
        return geometry.clusterCount() - usedClusters;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FatResult r && geometry.equals(r.geometry) && usedClusters == r.usedClusters && files == r.files
                && directories == r.directories && Arrays.equals(sha256, r.sha256);
    }

    @Override
    public int hashCode() {
        return Objects.hash(geometry, usedClusters, Arrays.hashCode(sha256));
    }

    @Override
    public String toString() {
        return "FatResult[geometry=" + geometry + ", usedClusters=" + usedClusters + ", files=" + files + ", directories="
                + directories + ", sha256=" + sha256Hex() + "]";
    }
}
