package dev.cairn.verity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Hostile and broken inputs: clean FormatExceptions naming the field, never partial outputs. */
class BadInputTest {
    static final UUID U = UUID.fromString("12345678-1234-1234-1234-123456789abc");

    @TempDir
    Path dir;

    @Test
    void superblockEncodesAtTheDocumentedOffsets() throws Exception {
        byte[] salt = HexFormat.of().parseHex("a1b2c3");
        VeritySuperblock sb = new VeritySuperblock(1, 1, U, "sha256", 4096, 1024, 10, salt);
        byte[] b = sb.encode();
        assertThat(b).hasSize(VeritySuperblock.SIZE);
        assertThat(HexFormat.of().formatHex(b, 0, 0x5b)).isEqualTo(
                "7665726974790000" + "01000000" + "01000000" + "12345678123412341234123456789abc"
                        + "7368613235360000000000000000000000000000000000000000000000000000"
                        + "00100000" + "00040000" + "0a00000000000000" + "0300" + "000000000000" + "a1b2c3");
        assertThat(VeritySuperblock.decode(b, 0)).isEqualTo(sb);
    }

    static Stream<Arguments> corruptions() {
        return Stream.of(
                Arguments.of("signature", (Consumer<byte[]>) b -> b[0] = 'X'),
                Arguments.of("version", (Consumer<byte[]>) b -> LittleEndian.putU32(b, 8, 2)),
                Arguments.of("hash_type", (Consumer<byte[]>) b -> LittleEndian.putU32(b, 12, 7)),
                Arguments.of("algorithm", (Consumer<byte[]>) b -> b[0x20] = 'x'),
                Arguments.of("algorithm", (Consumer<byte[]>) b -> java.util.Arrays.fill(b, 0x20, 0x40, (byte) 'a')),
                Arguments.of("data_block_size", (Consumer<byte[]>) b -> LittleEndian.putU32(b, 0x40, 3000)),
                Arguments.of("data_block_size", (Consumer<byte[]>) b -> LittleEndian.putU32(b, 0x40, 1L << 30)),
                Arguments.of("hash_block_size", (Consumer<byte[]>) b -> LittleEndian.putU32(b, 0x44, 256)),
                Arguments.of("data_blocks", (Consumer<byte[]>) b -> LittleEndian.putU64(b, 0x48, 0)),
                Arguments.of("data_blocks", (Consumer<byte[]>) b -> LittleEndian.putU64(b, 0x48, -1)),
                Arguments.of("salt_size", (Consumer<byte[]>) b -> LittleEndian.putU16(b, 0x50, 257)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptions")
    void corruptSuperblockIsAFormatErrorNamingTheField(String field, Consumer<byte[]> damage) throws Exception {
        byte[] b = new VeritySuperblock(1, 1, U, "sha256", 4096, 4096, 10, new byte[32]).encode();
        damage.accept(b);
        Path hash = dir.resolve("hash");
        Files.write(hash, java.util.Arrays.copyOf(b, 8192));
        assertThatThrownBy(() -> VeritySuperblock.read(hash, 0))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining(field)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Path data = dir.resolve("data");
        Files.write(data, new byte[40960]);
        assertThatThrownBy(() -> VerityVerifier.verify(data, hash, VerityParams.defaults(new byte[0], U), new byte[32], 1,
                VerityProgress.NONE)).isInstanceOf(FormatException.class);
    }

    @Test
    void truncatedHashFile() throws Exception {
        Path data = dir.resolve("data");
        Files.write(data, new byte[4096 * 300]);
        Path hash = dir.resolve("hash");
        VerityResult r = VerityFormatter.format(data, hash, VerityParams.defaults(new byte[32], U), 2, VerityProgress.NONE);
        byte[] h = Files.readAllBytes(hash);
        Files.write(hash, java.util.Arrays.copyOf(h, h.length - 1));
        assertThatThrownBy(() -> VerityVerifier.verify(data, hash, VerityParams.defaults(new byte[0], U), r.rootHash(), 1,
                VerityProgress.NONE)).isInstanceOf(FormatException.class).hasMessageContaining("too small");
        Files.write(hash, java.util.Arrays.copyOf(h, 100));
        assertThatThrownBy(() -> VeritySuperblock.read(hash, 0)).isInstanceOf(FormatException.class)
                .hasMessageContaining("too small");
    }

    @Test
    void refusesPartialBlocksEmptyDataAndMissingFilesWithoutLeavingOutput() throws Exception {
        Path hash = dir.resolve("hash");
        Path odd = dir.resolve("odd");
        Files.write(odd, new byte[10000]);
        assertThatThrownBy(() -> VerityFormatter.format(odd, hash, VerityParams.defaults(new byte[0], U), 1, VerityProgress.NONE))
                .isInstanceOf(FormatException.class).hasMessageContaining("not a multiple of the data block size");
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> VerityFormatter.format(empty, hash, VerityParams.defaults(new byte[0], U), 1, VerityProgress.NONE))
                .isInstanceOf(FormatException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> VerityFormatter.format(dir.resolve("missing"), hash, VerityParams.defaults(new byte[0], U), 1,
                VerityProgress.NONE)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> VerityFormatter.format(odd, hash, VerityParams.defaults(new byte[0], U).withDataBlocks(3), 1,
                VerityProgress.NONE)).isInstanceOf(FormatException.class).hasMessageContaining("holds only 2");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("odd", "empty");
        }
        // --data-blocks makes a partial tail explicit
        VerityResult r = VerityFormatter.format(odd, hash, VerityParams.defaults(new byte[0], U).withDataBlocks(2), 1,
                VerityProgress.NONE);
        assertThat(r.dataBlocks()).isEqualTo(2);
    }

    @Test
    void invalidParametersAreRejectedUpFront() {
        assertThatThrownBy(() -> VerityParams.defaults(new byte[0], U).withBlockSizes(3000, 4096))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("power of two");
        assertThatThrownBy(() -> VerityParams.defaults(new byte[257], U)).hasMessageContaining("256");
        assertThatThrownBy(() -> VerityParams.defaults(new byte[0], U).withHashOffset(100)).hasMessageContaining("512");
        assertThatThrownBy(() -> new FecParams(Path.of("x"), 0, 25)).hasMessageContaining("2 and 24");
        assertThatThrownBy(() -> VerityParams.defaults(new byte[0], U).withBlockSizes(512, 4096)
                .withFec(new FecParams(Path.of("x"), 0, 2))).hasMessageContaining("equal data and hash block sizes");
    }

    @Test
    void hashAreaMayNotOverlapTheData() throws Exception {
        Path img = dir.resolve("img");
        Files.write(img, new byte[8192]);
        assertThatThrownBy(() -> VerityFormatter.format(img, img, VerityParams.defaults(new byte[0], U).withHashOffset(4096), 1,
                VerityProgress.NONE)).isInstanceOf(FormatException.class).hasMessageContaining("overlap");
        assertThat(img).hasSize(8192);
    }

    @Test
    void wrongRootHashLength() throws Exception {
        Path data = dir.resolve("data");
        Files.write(data, new byte[8192]);
        Path hash = dir.resolve("hash");
        VerityFormatter.format(data, hash, VerityParams.defaults(new byte[0], U), 1, VerityProgress.NONE);
        assertThatThrownBy(() -> VerityVerifier.verify(data, hash, VerityParams.defaults(new byte[0], U), new byte[20], 1,
                VerityProgress.NONE)).isInstanceOf(FormatException.class).hasMessageContaining("64 hex digits");
    }

    /**
     * A seeded corpus of 300 mutated hash files (superblock and tree bytes flipped, files cut
     * short): every one yields either a verification result or one clean FormatException, quickly.
     */
    @Test
    void mutatedHashFilesNeverCrashOrHang() throws Exception {
        Path data = dir.resolve("data");
        Files.write(data, dev.cairn.testing.SeededData.bytes(3, 4096 * 200));
        Path good = dir.resolve("good");
        VerityResult r = VerityFormatter.format(data, good, VerityParams.defaults(new byte[32], U), 2, VerityProgress.NONE);
        byte[] original = Files.readAllBytes(good);
        java.util.Random rnd = new java.util.Random(77);
        Path bad = dir.resolve("bad");
        int intact = 0;
        int corrupted = 0;
        int rejected = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 300; i++) {
            byte[] m = original.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) {
                int pos = rnd.nextBoolean() ? rnd.nextInt(VeritySuperblock.SIZE) : rnd.nextInt(m.length);
                m[pos] = (byte) rnd.nextInt(256);
            }
            if (rnd.nextInt(10) == 0) {
                m = java.util.Arrays.copyOf(m, rnd.nextInt(m.length));
            }
            Files.write(bad, m);
            try {
                VerifyResult v = VerityVerifier.verify(data, bad, VerityParams.defaults(new byte[0], U), r.rootHash(), 2,
                        VerityProgress.NONE);
                if (v instanceof VerifyResult.Intact) {
                    intact++;
                } else {
                    corrupted++;
                }
            } catch (FormatException e) {
                assertThat(e.getMessage()).doesNotContain("\n");
                rejected++;
            }
        }
        assertThat(intact + corrupted + rejected).isEqualTo(300);
        assertThat(corrupted).isPositive();
        assertThat(rejected).isPositive();
        assertThat(System.nanoTime() - t0).isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(60));
    }
}
