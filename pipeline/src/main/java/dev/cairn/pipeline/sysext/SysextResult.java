package dev.cairn.pipeline.sysext;

import dev.cairn.pipeline.disk.WrittenPartition;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * What {@link SysextBuilder#build} wrote.
 *
 * @param output         the image file ({@code NAME.raw})
 * @param format         DDI or naked SquashFS
 * @param release        the extension-release file in the image (its path and content)
 * @param rootHash       the dm-verity root hash of the SquashFS, lower-case hex
 * @param signed         whether the root hash is signed (signature partition or {@code NAME.roothash.p7s})
 * @param size           bytes of {@code output}
 * @param sha256         SHA-256 of {@code output}, lower-case hex
 * @param squashfsSize   bytes of the SquashFS (padded to 4 KiB; for a DDI, the root partition's size)
 * @param diskGuid       the DDI's disk GUID, or null for a naked SquashFS
 * @param partitions     the DDI's partitions in table order (empty for a naked SquashFS)
 * @param sidecars       the files written beside a naked SquashFS ({@code NAME.verity}, {@code NAME.roothash},
 *                       {@code NAME.roothash.p7s}); empty for a DDI
 * @param warnings       things the caller should know (entries systemd will not merge, stale sidecars removed)
 */
public record SysextResult(Path output, SysextRequest.Format format, ExtensionRelease release, String rootHash, boolean signed,
                           long size, String sha256, long squashfsSize, UUID diskGuid, List<WrittenPartition> partitions,
                           List<Path> sidecars, List<String> warnings) {
    public SysextResult {
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(release, "release");
        Objects.requireNonNull(rootHash, "rootHash");
        Objects.requireNonNull(sha256, "sha256");
        partitions = List.copyOf(partitions);
        sidecars = List.copyOf(sidecars);
        warnings = List.copyOf(warnings);
    }
}
