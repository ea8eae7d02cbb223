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
 * it and extract every file. The wrappers' directory is {@code -Dcairn.erofs.tools} (default
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
