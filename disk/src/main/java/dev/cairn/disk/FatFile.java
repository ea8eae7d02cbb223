package dev.cairn.disk;

import java.util.Objects;

/**
 * A file or directory {@link FatReader} found.
 *
 * @param path                 absolute, {@code /}-separated, long names where present
 * @param shortName            the 8.3 name as stored ({@code BOOTX64.EFI}, {@code LINUX~1})
 * @param directory            whether it is a directory
 * @param size                 bytes (0 for directories)
 * @param firstCluster         first data cluster, 0 for an empty file
 * @param modifiedEpochSeconds last-write time read as UTC, or -1 when the stored date is invalid
 */
public record FatFile(String path, String shortName, boolean directory, long size, long firstCluster,
                      long modifiedEpochSeconds) {
    public FatFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(shortName, "shortName");
    }
}
