package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.testing.ToolOracle;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * mkfs.erofs 1.8 (Debian 13's erofs-utils, run through its own loader by the wrappers that
 * {@code src-test-fixtures/trixie-erofs-utils.sh} writes) is the oracle: for every tar of the corpus
 * and for seeded random layers, cairn's image must be byte-identical to
 * {@code mkfs.erofs --tar=f --aufs --quiet -Enoinline_data -b4096 -T0 --mkfs-time --sort=none -U <uuid>}
 * (containerd 2.3's argv in its reproducible configuration), and {@code fsck.erofs} 1.8 must accept
 * it and extract every file. The same for containerd's tar-index mode ({@code --tar=i --aufs --quiet
 * -b4096 -T0 --mkfs-time --sort=none -U <uuid>}, the layer file being that index followed by the tar;
 * fsck.erofs gets the tar as {@code --device}). The wrappers' directory is {@code -Dcairn.erofs.tools} (default
 * {@code /opt/cairn-oracles/trixie-erofs/bin}); missing wrappers skip locally and fail under CI=true.
 * The kernel's view of the same images is {@link ErofsMountIT}.
 */
class ErofsOracleIT {
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    static final String PACKAGE = "erofs-utils from Debian 13 (src-test-fixtures/trixie-erofs-utils.sh)";
    static final String DIGEST = "sha256:" + "5e".repeat(32);
    static final int RANDOM_LAYERS = 24;

    static ToolOracle mkfs;
    static ToolOracle fsck;

    @TempDir
    Path dir;

    static Path tools() {
        return Path.of(System.getProperty("cairn.erofs.tools", "/opt/cairn-oracles/trixie-erofs/bin"));
    }

    @BeforeAll
    static void tools18() {
        mkfs = ToolOracle.requireAt(tools().resolve("mkfs.erofs"), PACKAGE);
        fsck = ToolOracle.requireAt(tools().resolve("fsck.erofs"), PACKAGE);
        String v = mkfs.runOk("--version").stdout();
        assertThat(v).as("the oracle must be erofs-utils 1.8.x").startsWith("mkfs.erofs (erofs-utils) 1.8.");
    }

    static List<String> argv(UUID uuid, Path out) {
        return List.of("--tar=f", "--aufs", "--quiet", "-Enoinline_data", "-b4096", "-T0", "--mkfs-time",
                "--sort=none", "-U", uuid.toString(), out.toString());
    }

    /**
     * containerd's tar-index argv ({@code GenerateTarIndexAndAppendTar} with the differ's default
     * {@code -b4096} and the reproducible mkfs_options).
     */
    static List<String> argvTarIndex(UUID uuid, Path out) {
        return List.of("--tar=i", "--aufs", "--quiet", "-b4096", "-T0", "--mkfs-time", "--sort=none", "-U",
                uuid.toString(), out.toString());
    }

    /** mkfs.erofs's tar-index image of {@code tar}. */
    static byte[] mkfsTarIndex(Path dir, String name, byte[] tar, UUID uuid) throws IOException {
        Path out = dir.resolve(name + ".mkfs.tarindex.erofs");
        mkfs.run(TIMEOUT, dir, argvTarIndex(uuid, out), tar).assertExit(0);
        return Files.readAllBytes(out);
    }

    /** mkfs.erofs's image of {@code tar}. */
    static byte[] mkfs(Path dir, String name, byte[] tar, UUID uuid) throws IOException {
        Path out = dir.resolve(name + ".mkfs.erofs");
        mkfs.run(TIMEOUT, dir, argv(uuid, out), tar).assertExit(0);
        return Files.readAllBytes(out);
    }

    /** cairn's image of {@code tar}. */
    static Path cairn(Path dir, String name, byte[] tar, ErofsOptions options) throws IOException {
        Path out = dir.resolve(name + ".cairn.erofs");
        ErofsResult r = ErofsTarWriter.write(new ByteArrayInputStream(tar), out, options);
        assertThat(Files.size(out)).isEqualTo(r.size());
        return out;
    }

    @TestFactory
    Stream<DynamicTest> byteIdenticalToMkfsErofs18() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : TarCorpus.all().entrySet()) {
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> compare(e.getKey(), e.getValue())));
        }
        for (int seed = 0; seed < RANDOM_LAYERS; seed++) {
            long s = seed;
            tests.add(DynamicTest.dynamicTest("random-" + seed, () -> compare("random-" + s, TarCorpus.randomLayer(s))));
        }
        return tests.stream();
    }

    private void compare(String name, byte[] tar) throws IOException {
        ErofsOptions options = ErofsOptions.containerd(DIGEST);
        byte[] expected = mkfs(dir, name, tar, options.uuid());
        Path image = cairn(dir, name, tar, options);
        byte[] actual = Files.readAllBytes(image);
        if (!Arrays.equals(expected, actual)) {
            fail(name + ": " + ImageDiff.describe(expected, actual));
        }
        assertArrayEquals(expected, actual);
        // fsck.erofs 1.8 checks the metadata and, with --extract (no target), decodes every file's data
        fsck.run(TIMEOUT, dir, List.of("--extract", image.toString()), null).assertExit(0);
    }

    @TestFactory
    Stream<DynamicTest> tarIndexByteIdenticalToMkfsErofs18() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : TarCorpus.all().entrySet()) {
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> compareTarIndex(e.getKey(), e.getValue())));
        }
        for (int seed = 0; seed < RANDOM_LAYERS; seed++) {
            long s = seed;
            tests.add(DynamicTest.dynamicTest("random-" + seed,
                    () -> compareTarIndex("random-" + s, TarCorpus.randomLayer(s))));
        }
        for (Map.Entry<String, byte[]> e : tarIndexCases().entrySet()) {
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> compareTarIndex(e.getKey(), e.getValue())));
        }
        tests.add(DynamicTest.dynamicTest("libarchive-xattrs",
                () -> compareTarIndex("libarchive-xattrs", TarCorpus.libarchiveXattrs())));
        return tests.stream();
    }

    /** Tars for what only tar-index mode exercises: chunk sizes, chunk indexes after xattrs, the tar's end. */
    static Map<String, byte[]> tarIndexCases() {
        Map<String, byte[]> m = new java.util.LinkedHashMap<>();
        TarCorpus sizes = new TarCorpus();
        int[] lengths = {1, 511, 512, 513, 4095, 4096, 4097, 65536, 65537, 300_000};
        for (int i = 0; i < lengths.length; i++) {
            sizes.file("f" + lengths[i], TarCorpus.random(i, lengths[i]));
        }
        m.put("chunk-sizes", sizes.bytes());
        // a 20-byte xattr body after a 64-byte inode: the chunk index starts 8-byte aligned, at 88
        m.put("xattr-then-index", new TarCorpus()
                .withPax("x", org.apache.commons.compress.archivers.tar.TarConstants.LF_NORMAL, 0644,
                        TarCorpus.text("data"), Map.of("SCHILY.xattr.user.a", "1"))
                .withPax("y", org.apache.commons.compress.archivers.tar.TarConstants.LF_NORMAL, 0644,
                        TarCorpus.random(7, 1000), Map.of("SCHILY.xattr.user.ab", "12", "SCHILY.xattr.trusted.q", ""))
                .bytes());
        byte[] two = new TarCorpus().file("a", TarCorpus.text("a")).file("b", TarCorpus.text("b")).bytes();
        byte[] junk = Arrays.copyOf(two, two.length + 70_000);
        Arrays.fill(junk, two.length + 5, junk.length, (byte) 0x5A);
        m.put("bytes-after-the-end", junk);
        m.put("lone-zero-block", loneZeroBlock());
        return m;
    }

    /**
     * Three files with a lone zero block after the first and after the second: mkfs.erofs skips each
     * (only two zero blocks in a row end a tar), so "c" is in the image and the tar ends later.
     */
    static byte[] loneZeroBlock() {
        byte[] abc = new TarCorpus().file("a", TarCorpus.text("a")).file("b", TarCorpus.text("b"))
                .file("c", TarCorpus.text("c")).bytes();
        byte[] t = new byte[abc.length + 1024];
        System.arraycopy(abc, 0, t, 0, 1024); // header and data block of "a"
        System.arraycopy(abc, 1024, t, 1536, 1024); // "b"
        System.arraycopy(abc, 2048, t, 3072, abc.length - 2048); // "c" and the end
        if (abc[1024] != 'b' || abc[2048] != 'c') {
            throw new IllegalStateException("the corpus no longer writes a file as one header and one data block");
        }
        return t;
    }

    @Test
    void loneZeroBlockFullMode(@TempDir Path d) throws IOException {
        byte[] tar = loneZeroBlock();
        ErofsOptions o = ErofsOptions.containerd(DIGEST);
        byte[] expected = mkfs(d, "lone", tar, o.uuid());
        byte[] actual = Files.readAllBytes(cairn(d, "lone", tar, o));
        assertArrayEquals(expected, actual, () -> ImageDiff.describe(expected, actual));
    }

    private void compareTarIndex(String name, byte[] tar) throws IOException {
        ErofsOptions options = ErofsOptions.containerdTarIndex(DIGEST);
        byte[] expected = mkfsTarIndex(dir, name, tar, options.uuid());
        Path image = dir.resolve(name + ".cairn.tarindex.erofs");
        ErofsResult r = ErofsTarWriter.write(new ByteArrayInputStream(tar), image, options);
        byte[] actual = Files.readAllBytes(image);
        assertThat(actual.length).isEqualTo(r.size());
        if (!Arrays.equals(expected, actual)) {
            fail(name + ": " + ImageDiff.describe(expected, actual));
        }
        // the layer file containerd keeps: index ‖ tar
        Path layer = dir.resolve(name + ".cairn.layer");
        TarIndexLayerResult lr = ErofsTarWriter.writeTarIndexLayer(new ByteArrayInputStream(tar), layer, options);
        byte[] layerBytes = Files.readAllBytes(layer);
        byte[] expectedLayer = Arrays.copyOf(expected, expected.length + tar.length);
        System.arraycopy(tar, 0, expectedLayer, expected.length, tar.length);
        assertArrayEquals(expectedLayer, layerBytes, name + ": layer file");
        assertThat(lr.size()).isEqualTo(layerBytes.length);
        assertThat(lr.tarSize()).isEqualTo(tar.length);
        // fsck.erofs 1.8 does not follow mapped_blkaddr into the same file: it checks the index with
        // the tar as device 1 and decodes every file's data from it
        Path tarFile = dir.resolve(name + ".tar");
        Files.write(tarFile, tar);
        fsck.run(TIMEOUT, dir, List.of("--device=" + tarFile, "--extract", image.toString()), null).assertExit(0);
    }

    @Test
    void tarIndexModeIgnoresContainerdsBlockSize(@TempDir Path d) throws IOException {
        // containerd prepends -b4096 to mkfs_options; --tar=i forces 512-byte blocks anyway
        byte[] tar = TarCorpus.all().get("hardlinks");
        UUID u = ErofsOptions.containerdTarIndex(DIGEST).uuid();
        byte[] withB = mkfsTarIndex(d, "b4096", tar, u);
        Path out = d.resolve("nob.erofs");
        mkfs.run(TIMEOUT, d, List.of("--tar=i", "--aufs", "--quiet", "-T0", "--mkfs-time", "--sort=none", "-U",
                u.toString(), out.toString()), tar).assertExit(0);
        assertArrayEquals(Files.readAllBytes(out), withB);
        assertThat(withB[1024 + 0x0C]).as("blkszbits").isEqualTo((byte) 9);
    }

    @Test
    void theUuidIsContainerdsAndOtherUuidsChangeOnlyUuidAndChecksum(@TempDir Path d) throws IOException {
        byte[] tar = TarCorpus.all().get("hardlinks");
        UUID other = UUID.fromString("0f0e0d0c-0b0a-4908-8706-050403020100");
        byte[] expected = mkfs(d, "other", tar, other);
        byte[] actual = Files.readAllBytes(cairn(d, "other", tar, ErofsOptions.of(other, 0)));
        assertArrayEquals(expected, actual, () -> ImageDiff.describe(expected, actual));
        byte[] containerd = Files.readAllBytes(cairn(d, "containerd", tar, ErofsOptions.containerd(DIGEST)));
        List<Integer> differing = new ArrayList<>();
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] != containerd[i]) {
                differing.add(i);
            }
        }
        assertThat(differing).allMatch(i -> (i >= 1024 + 4 && i < 1024 + 8) || (i >= 1024 + 48 && i < 1024 + 64));
    }

    @Test
    void libarchiveXattrsAreStoredAsErofsUtils18DecodesThem(@TempDir Path d) throws IOException {
        // erofs-utils 1.8's base64_decode is not RFC 4648 (fixed in 1.9 by commit ac4873c): cairn matches 1.8
        byte[] tar = TarCorpus.libarchiveXattrs();
        ErofsOptions o = ErofsOptions.containerd(DIGEST);
        byte[] expected = mkfs(d, "la", tar, o.uuid());
        byte[] actual = Files.readAllBytes(cairn(d, "la", tar, o));
        assertArrayEquals(expected, actual, () -> ImageDiff.describe(expected, actual));
    }
}
