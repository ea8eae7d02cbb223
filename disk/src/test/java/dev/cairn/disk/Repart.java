package dev.cairn.disk;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Runs systemd-repart 252 offline on an image file: one definition per {@link PartitionSpec}
 * ({@code CopyBlocks=} the content, {@code SizeMinBytes=SizeMaxBytes=} the size, {@code Label=},
 * {@code Flags=} plus the tristates repart would otherwise default, and {@code UUID=} unless the
 * UUID is the one repart derives from the seed anyway).
 */
final class Repart {
    private Repart() {
    }

    static ToolOracle tool() {
        return ToolOracle.require("systemd-repart", "systemd");
    }

    /**
     * @param size  "auto" or a byte count for {@code --size=}
     * @param index per spec: its index among partitions of the same type (for the seed derivation)
     */
    static Path run(ToolOracle repart, Path dir, String name, UUID seed, List<PartitionSpec> parts, String size) {
        try {
            Path defs = Files.createDirectories(dir.resolve(name + ".repart.d"));
            List<UUID> types = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                PartitionSpec p = parts.get(i);
                int index = (int) types.stream().filter(t -> t.equals(p.type())).count();
                types.add(p.type());
                StringBuilder sb = new StringBuilder("[Partition]\n");
                sb.append("Type=").append(DpsType.of(p.type()).map(DpsType::systemdName).orElse(p.type().toString())).append('\n');
                if (!p.uuid().equals(RepartUuids.partitionUuid(seed, p.type(), index))) {
                    sb.append("UUID=").append(p.uuid()).append('\n');
                }
                sb.append("Label=").append(p.label()).append('\n');
                sb.append(String.format("Flags=0x%016x%n", p.attributes()));
                sb.append("ReadOnly=").append(yesNo(p.attributes() & DpsType.READ_ONLY)).append('\n');
                sb.append("NoAuto=").append(yesNo(p.attributes() & DpsType.NO_AUTO)).append('\n');
                sb.append("GrowFileSystem=").append(yesNo(p.attributes() & DpsType.GROW_FS)).append('\n');
                if (p.content() != null) {
                    sb.append("CopyBlocks=").append(p.content().toAbsolutePath()).append('\n');
                }
                sb.append("SizeMinBytes=").append(p.size()).append('\n');
                sb.append("SizeMaxBytes=").append(p.size()).append('\n');
                Files.writeString(defs.resolve(String.format("%02d-part.conf", i)), sb.toString());
            }
            Path img = dir.resolve(name + ".repart.raw");
            Files.deleteIfExists(img);
            repart.runOk("--empty=create", "--size=" + size, "--seed=" + seed, "--dry-run=no", "--no-pager",
                    "--definitions=" + defs.toAbsolutePath(), img.toAbsolutePath().toString());
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String yesNo(long bit) {
        return bit != 0 ? "yes" : "no";
    }
}
