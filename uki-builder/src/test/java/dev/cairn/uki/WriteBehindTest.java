package dev.cairn.uki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.uki.pe.PeChecksum;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link UkiWriter}'s second thread: the same bytes and checksum as one thread, failures surfaced, no thread left behind. */
class WriteBehindTest {
    @TempDir
    Path dir;

    @Test
    void writesAndSumsExactlyWhatOneThreadWouldInOrder() throws Exception {
        Random r = new Random(20261206L);
        // pieces of every size class: tiny, odd, exactly a chunk, several chunks, a reused caller buffer
        int[] sizes = {1, 3, 4095, WriteBehind.CHUNK, WriteBehind.CHUNK + 1, 3 * WriteBehind.CHUNK + 7, 17, 2 * WriteBehind.CHUNK};
        byte[] caller = new byte[4 * WriteBehind.CHUNK];
        PeChecksum oneThread = new PeChecksum();
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        PeChecksum behindSum = new PeChecksum();
        Path file = dir.resolve("out.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             WriteBehind behind = new WriteBehind(ch, behindSum)) {
            for (int size : sizes) {
                r.nextBytes(caller); // the caller's buffer changes right after each accept
                int off = size % 5;
                behind.accept(caller, off, size);
                oneThread.update(caller, off, size);
                expected.write(caller, off, size);
            }
            behind.finish();
            behind.finish(); // idempotent
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(expected.toByteArray());
        assertThat(behindSum.length()).isEqualTo(oneThread.length());
        assertThat(behindSum.value()).isEqualTo(oneThread.value());
        assertThat(writerThreads()).isZero();
    }

    @Test
    void aFailedWriteIsRethrownAndTheThreadEnds() throws Exception {
        Path file = Files.write(dir.resolve("ro.bin"), new byte[0]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             WriteBehind behind = new WriteBehind(ch, new PeChecksum())) {
            assertThatThrownBy(() -> {
                byte[] b = new byte[WriteBehind.CHUNK];
                for (int i = 0; i < 4 * WriteBehind.BUFFERS; i++) {
                    behind.accept(b, 0, b.length);
                }
                behind.finish();
            }).isInstanceOf(java.nio.channels.NonWritableChannelException.class);
        }
        assertThat(writerThreads()).isZero();
    }

    @Test
    void closingBeforeFinishStopsTheThread() throws Exception {
        Path file = dir.resolve("abandoned.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             WriteBehind behind = new WriteBehind(ch, new PeChecksum())) {
            behind.accept(new byte[100], 0, 100);
            // an exception in the caller's loop leaves by close(), without finish()
        }
        assertThat(writerThreads()).isZero();
    }

    /** A whole UKI written with and without the second thread: the same bytes, digest and checksum, signed or not. */
    @Test
    void aLargeUkiIsTheSameWrittenBehindOrNot() throws Exception {
        byte[] stub = dev.cairn.testing.TinyPe.stub("sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n", "257");
        Path initrd = Files.write(dir.resolve("initrd"), dev.cairn.testing.SeededData.bytes(77, (int) WriteBehind.MIN_SIZE + 12345));
        UkiLayout.Plan plan = UkiLayout.plan(stub, java.util.List.of(
                new UkiLayout.NewSection(".cmdline", SectionData.of("quiet".getBytes(java.nio.charset.StandardCharsets.US_ASCII))),
                new UkiLayout.NewSection(".initrd", SectionData.file(initrd)),
                new UkiLayout.NewSection(".linux", SectionData.of(dev.cairn.testing.TinyPe.kernel(3000)))), true);
        assertThat(plan.size()).isGreaterThanOrEqualTo(WriteBehind.MIN_SIZE);
        dev.cairn.uki.pe.ImageSigner fake = (alg, digest) -> java.util.Arrays.copyOf(digest, 301); // any bytes: a stand-in signature
        for (java.util.List<dev.cairn.uki.pe.ImageSigner> signers : java.util.List.of(java.util.List.<dev.cairn.uki.pe.ImageSigner>of(),
                java.util.List.of(fake))) {
            Path one = dir.resolve("one.efi");
            Path two = dir.resolve("two.efi");
            UkiWriter.Result a = writeUki(plan, one, signers, false);
            UkiWriter.Result b = writeUki(plan, two, signers, true);
            assertThat(b.authenticodeDigest()).isEqualTo(a.authenticodeDigest());
            assertThat(b.size()).isEqualTo(a.size());
            assertThat(Files.readAllBytes(two)).isEqualTo(Files.readAllBytes(one));
            UkiFile f = UkiFile.open(two);
            assertThat(f.image().sections()).hasSize(plan.sections().size());
            Files.delete(one);
            Files.delete(two);
        }
        assertThat(writerThreads()).isZero();
    }

    private static UkiWriter.Result writeUki(UkiLayout.Plan plan, Path out, java.util.List<dev.cairn.uki.pe.ImageSigner> signers, boolean behind)
            throws Exception {
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            return UkiWriter.write(plan, ch, "SHA-256", signers, n -> { }, behind);
        }
    }

    private static long writerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("cairn-write") && t.isAlive()).count();
    }
}
