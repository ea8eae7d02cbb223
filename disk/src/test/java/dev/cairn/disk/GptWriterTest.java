package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's own promises: digests as by-products, every byte written, content size checks, reproducibility. */
class GptWriterTest {
    static final UUID DISK = UUID.fromString("a5c297da-ee09-4294-b4ec-5007a97cdfc3");

    @TempDir
    Path dir;

    DiskLayout layout() {
        Path a = dir.resolve("a");
        SeededData.writeFile(a, 1, 3 * 1024 * 1024 + 123);
        Path b = dir.resolve("b");
        SeededData.writeFile(b, 2, 4096);
        return DiskLayout.plan(DISK, List.of(
                new PartitionSpec(DpsType.ROOT_X86_64.uuid(), new UUID(1, 1), "root", DpsType.READ_ONLY, 4 << 20, a),
                new PartitionSpec(DpsType.LINUX_GENERIC.uuid(), new UUID(1, 2), "empty", 0, 8192, null),
                new PartitionSpec(DpsType.ROOT_X86_64_VERITY.uuid(), new UUID(1, 3), "hash", DpsType.READ_ONLY, 4096, b)), 0);
    }

    static byte[] sha256(byte[] b, long from, long len) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(b, (int) from, (int) len);
        return md.digest();
    }

    @Test
    void digestsAreThoseOfTheBytesWritten() throws Exception {
        DiskLayout l = layout();
        Path img = dir.resolve("disk.raw");
        DiskResult r = GptWriter.write(l, img);
        byte[] disk = Files.readAllBytes(img);
        assertThat(disk).hasSize((int) l.totalSize());
        assertThat(r.totalSize()).isEqualTo(l.totalSize());
        assertThat(r.sha256()).isEqualTo(sha256(disk, 0, disk.length));
        for (DiskResult.Partition p : r.partitions()) {
            assertThat(p.sha256()).as("partition " + p.number()).isEqualTo(sha256(disk, p.offset(), p.size()));
        }
        assertThat(r.partitions()).extracting(DiskResult.Partition::contentBytes).containsExactly(3L * 1024 * 1024 + 123, 0L, 4096L);
        byte[] content = Files.readAllBytes(dir.resolve("a"));
        assertThat(Arrays.copyOfRange(disk, 1 << 20, (1 << 20) + content.length)).isEqualTo(content);
        // the gap after the content is zero
        assertThat(Arrays.copyOfRange(disk, (1 << 20) + content.length, (1 << 20) + (4 << 20))).containsOnly(0);
    }

    @Test
    void writesOverOldBytesAndTruncates() throws Exception {
        DiskLayout l = layout();
        Path clean = dir.resolve("clean.raw");
        GptWriter.write(l, clean);
        Path dirty = dir.resolve("dirty.raw");
        Files.write(dirty, SeededData.bytes(9, (int) l.totalSize() + 100_000));
        try (FileChannel ch = FileChannel.open(dirty, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.position(12345);
            GptWriter.write(l, ch);
        }
        assertThat(Files.readAllBytes(dirty)).isEqualTo(Files.readAllBytes(clean));
        Path again = dir.resolve("again.raw");
        assertThat(GptWriter.write(l, again)).isEqualTo(GptWriter.write(l, clean));
        assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(clean));
    }

    @Test
    void contentLargerThanItsPartitionIsRefusedBeforeWriting() throws IOException {
        Path big = dir.resolve("big");
        SeededData.writeFile(big, 3, 8193);
        DiskLayout l = DiskLayout.plan(DISK, List.of(new PartitionSpec(DpsType.VAR.uuid(), new UUID(1, 1), "v", 0, 8192, big)), 0);
        Path img = dir.resolve("x.raw");
        assertThatThrownBy(() -> GptWriter.write(l, img)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8193").hasMessageContaining("8192");
        assertThat(img).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith(".x.raw"))).isEmpty();
        }
    }

    @Test
    void protectiveMbrAndHeadersAreInPlace() throws Exception {
        DiskLayout l = layout();
        Path img = dir.resolve("d.raw");
        GptWriter.write(l, img);
        try (FileChannel ch = FileChannel.open(img)) {
            ByteBuffer b = ByteBuffer.allocate(8);
            ch.read(b, 512);
            assertThat(new String(b.array(), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("EFI PART");
            b.clear();
            ch.read(b, l.totalSize() - 512);
            assertThat(new String(b.array(), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("EFI PART");
        }
        byte[] disk = Files.readAllBytes(img);
        byte[] primaryEntries = Arrays.copyOfRange(disk, 1024, 1024 + 16384);
        long backupEntries = l.backupEntriesLba() * 512;
        assertThat(Arrays.copyOfRange(disk, (int) backupEntries, (int) backupEntries + 16384)).isEqualTo(primaryEntries);
        assertThat(Arrays.copyOfRange(primaryEntries, 3 * 128, 16384)).containsOnly(0);
    }
}
