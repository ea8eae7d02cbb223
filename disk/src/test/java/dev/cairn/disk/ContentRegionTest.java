package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.testing.SeededData;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One file feeding two partitions (a SquashFS and its appended hash tree as root and root-verity). */
class ContentRegionTest {
    @TempDir
    Path dir;

    @Test
    void twoRegionsOfOneFileBecomeTwoPartitions() throws Exception {
        byte[] all = SeededData.bytes(11, 5 * 4096 + 3 * 4096);
        Path f = dir.resolve("rootfs.img");
        Files.write(f, all);
        UUID u1 = UUID.fromString("11111111-1111-4111-8111-111111111111");
        UUID u2 = UUID.fromString("22222222-2222-4222-8222-222222222222");
        List<PartitionSpec> parts = List.of(
                PartitionSpec.of(DpsType.ROOT_X86_64, u1, DpsType.READ_ONLY, 5 * 4096, f).withContentRegion(0, 5 * 4096),
                PartitionSpec.of(DpsType.ROOT_X86_64_VERITY, u2, DpsType.READ_ONLY, 4 * 4096, f).withContentRegion(5 * 4096, 3 * 4096));
        DiskLayout layout = DiskLayout.plan(UUID.fromString("33333333-3333-4333-8333-333333333333"), parts, 0);
        Path disk = dir.resolve("disk.raw");
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            GptWriter.write(layout, ch);
        }
        byte[] d = Files.readAllBytes(disk);
        PlacedPartition a = layout.partitions().get(0);
        PlacedPartition b = layout.partitions().get(1);
        assertThat(Arrays.copyOfRange(d, (int) a.offset(), (int) (a.offset() + 5 * 4096))).isEqualTo(Arrays.copyOfRange(all, 0, 5 * 4096));
        assertThat(Arrays.copyOfRange(d, (int) b.offset(), (int) (b.offset() + 3 * 4096)))
                .isEqualTo(Arrays.copyOfRange(all, 5 * 4096, 8 * 4096));
        assertThat(Arrays.copyOfRange(d, (int) (b.offset() + 3 * 4096), (int) (b.offset() + 4 * 4096))).containsOnly(0);
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
            GptTable t = GptReader.read(ch);
            assertThat(t.entries()).extracting(GptEntry::uuid).containsExactly(u1, u2);
        }
        List<PartitionSpec> outside = List.of(PartitionSpec.of(DpsType.ROOT_X86_64, u1, 0, 8 * 4096, f).withContentRegion(4096, 8 * 4096));
        DiskLayout bad = DiskLayout.plan(UUID.randomUUID(), outside, 0);
        assertThatThrownBy(() -> GptWriter.write(bad, dir.resolve("bad.raw"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lies outside");
        assertThat(dir.resolve("bad.raw")).doesNotExist();
    }
}
