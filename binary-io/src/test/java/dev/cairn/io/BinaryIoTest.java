package dev.cairn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BinaryIoTest {
    @Test
    void littleEndianRoundTrip() throws Exception {
        byte[] b = new byte[16];
        LittleEndian.putU16(b, 0, 0xBEEF);
        LittleEndian.putU32(b, 2, 0xDEADBEEFL);
        LittleEndian.putU64(b, 6, 0x0102030405060708L);
        assertThat(HexFormatting.hex(b)).isEqualTo("efbeefbeadde0807060504030201" + "0000");
        assertThat(LittleEndian.u16(b, 0, "a")).isEqualTo(0xBEEF);
        assertThat(LittleEndian.u32(b, 2, "b")).isEqualTo(0xDEADBEEFL);
        assertThat(LittleEndian.u64(b, 6, "c")).isEqualTo(0x0102030405060708L);
    }

    @Test
    void outOfBoundsReadNamesFieldAndOffset() {
        assertThatThrownBy(() -> LittleEndian.u32(new byte[6], 4, "salt_size"))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining("salt_size")
                .hasMessageContaining("offset 4");
    }

    @Test
    void checkedNarrowingRefusesOverflow() throws Exception {
        assertThat(Checked.u32("x", 0xFFFF_FFFFL)).isEqualTo(-1);
        assertThatThrownBy(() -> Checked.u32("data_blocks", 1L << 32)).hasMessageContaining("data_blocks");
        assertThatThrownBy(() -> Checked.u16("salt_size", 65536)).hasMessageContaining("salt_size=65536");
        assertThatThrownBy(() -> Checked.intSize("n", -1)).isInstanceOf(FormatException.class);
    }

    @Test
    void alignment() {
        assertThat(Align.up(0, 4096)).isZero();
        assertThat(Align.up(1, 4096)).isEqualTo(4096);
        assertThat(Align.up(4096, 4096)).isEqualTo(4096);
        assertThat(Align.ceilDiv(10000, 4096)).isEqualTo(3);
        assertThat(Align.log2(4096)).isEqualTo(12);
        assertThat(Align.isPowerOfTwo(3000)).isFalse();
        assertThatThrownBy(() -> Align.up(5, 3)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void atomicOutputOnlyAppearsOnCommit(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out.img");
        try (AtomicOutput out = AtomicOutput.open(target)) {
            out.channel().write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
            assertThat(target).doesNotExist();
            out.commit();
        }
        assertThat(target).hasContent("hello");
        assertThat(Files.list(dir).count()).isEqualTo(1);
    }

    @Test
    void atomicOutputCreatesMissingParentsAndRefusesAFileAsParent(@TempDir Path dir) throws Exception {
        Path deep = dir.resolve("a/b/out.img");
        try (AtomicOutput out = AtomicOutput.open(deep)) {
            out.commit();
        }
        assertThat(deep).exists();
        Path file = Files.writeString(dir.resolve("plain"), "x");
        assertThatThrownBy(() -> AtomicOutput.open(file.resolve("out.img"))).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining(file.toString());
        assertThatThrownBy(() -> AtomicOutput.open(file.resolve("c/out.img"))).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining(file.toString());
        assertThat(file).hasContent("x");
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("a", "plain");
    }

    @Test
    void atomicOutputClosedWithoutCommitLeavesNothing(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out.img");
        Files.writeString(target, "old");
        try (AtomicOutput out = AtomicOutput.openCopying(target, target)) {
            out.channel().write(ByteBuffer.wrap("XX".getBytes(StandardCharsets.US_ASCII)), 3);
            // no commit: simulated failure
        }
        assertThat(target).hasContent("old");
        assertThat(Files.list(dir).count()).isEqualTo(1);
    }

    @Test
    void atomicOutputFlushedInBackgroundCommitsEverythingAndStopsItsThread(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out.img");
        byte[] block = new byte[1 << 20];
        java.util.Arrays.fill(block, (byte) 7);
        try (AtomicOutput out = AtomicOutput.open(target)) {
            out.flushInBackground();
            out.flushInBackground(); // once is enough
            assertThat(flushThreads()).isEqualTo(1);
            for (int i = 0; i < 24; i++) {
                out.channel().write(ByteBuffer.wrap(block), (long) i << 20);
                Thread.sleep(50); // spans more than one background flush
            }
            out.commit();
        }
        assertThat(flushThreads()).isZero();
        assertThat(Files.size(target)).isEqualTo(24L << 20);
        assertThat(Files.list(dir).count()).isEqualTo(1);
        try (AtomicOutput out = AtomicOutput.open(dir.resolve("abandoned.img"))) {
            out.flushInBackground();
            out.channel().write(ByteBuffer.wrap(block));
        }
        assertThat(flushThreads()).isZero();
        assertThat(dir.resolve("abandoned.img")).doesNotExist();
        assertThat(Files.list(dir).count()).isEqualTo(1);
    }

    @Test
    void atomicOutputFlushedNowKeepsWhatIsWrittenAfterAndStopsItsThread(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("signed.efi");
        byte[] bulk = new byte[3 << 20];
        java.util.Arrays.fill(bulk, (byte) 5);
        try (AtomicOutput out = AtomicOutput.open(target)) {
            out.channel().write(ByteBuffer.wrap(bulk), 0);
            out.flushNow();
            out.flushNow(); // once is enough
            out.flushInBackground(); // and a running flusher is kept
            assertThat(flushThreads()).isEqualTo(1);
            // the tail and a header patch written while (or after) the bulk is flushed
            out.channel().write(ByteBuffer.wrap("tail".getBytes(StandardCharsets.US_ASCII)), bulk.length);
            out.channel().write(ByteBuffer.wrap("HD".getBytes(StandardCharsets.US_ASCII)), 0);
            assertThat(target).doesNotExist();
            out.commit();
            assertThatThrownBy(out::flushNow).isInstanceOf(IllegalStateException.class);
        }
        assertThat(flushThreads()).isZero();
        byte[] got = Files.readAllBytes(target);
        assertThat(got).hasSize(bulk.length + 4);
        assertThat(new String(got, 0, 2, StandardCharsets.US_ASCII)).isEqualTo("HD");
        assertThat(got[2]).isEqualTo((byte) 5);
        assertThat(new String(got, bulk.length, 4, StandardCharsets.US_ASCII)).isEqualTo("tail");
        assertThat(Files.list(dir).count()).isEqualTo(1);
    }

    private static long flushThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("cairn-flush") && t.isAlive()).count();
    }

    /** Tiny local helper to keep the test free of production hex code. */
    static final class HexFormatting {
        static String hex(byte[] b) {
            return java.util.HexFormat.of().formatHex(b);
        }
    }
}
