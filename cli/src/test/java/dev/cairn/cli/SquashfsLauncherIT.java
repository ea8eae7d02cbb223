package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.NastyTree;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged {@code cairn squashfs create} as users run it: reproducible across creation order,
 * umask and locale; tarball sources (plain, gz, zst, xz, stdin) give the same file system as the
 * directory they were made from.
 */
class SquashfsLauncherIT {
    private static final Duration LONG = Duration.ofMinutes(10);
    static Path launcher;

    @TempDir
    static Path work;

    @BeforeAll
    static void find() throws IOException {
        launcher = LauncherIT.locate();
    }

    static ToolOracle.Result sh(Path cwd, String script) {
        return ToolOracle.require("bash", "bash").run(LONG, cwd, List.of("-c", script), null);
    }

    static String q(Path p) {
        return "'" + p.toString().replace("'", "'\\''") + "'";
    }

    @Test
    void sameBytesWhateverCreationOrderUmaskAndLocale() throws IOException {
        Path a = work.resolve("a");
        Path b = work.resolve("b");
        new NastyTree(2000, false).create(a, false);
        new NastyTree(2000, false).create(b, true);
        String cmd = q(launcher) + " squashfs create %s %s --comp zstd --mtime 1700000000 --processors %d";
        sh(work, "umask 077; export LC_ALL=C LANG=C; " + String.format(cmd, q(a), q(work.resolve("a.sqfs")), 1)).assertExit(0);
        sh(work, "umask 022; export LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8; " + String.format(cmd, q(b), q(work.resolve("b.sqfs")), 2))
                .assertExit(0);
        assertThat(Files.mismatch(work.resolve("a.sqfs"), work.resolve("b.sqfs"))).isEqualTo(-1L);
        // and the non-ASCII names survived the C locale
        String listing = ToolOracle.require("unsquashfs", "squashfs-tools")
                .run(LONG, work, List.of("-l", work.resolve("a.sqfs").toString()), null).assertExit(0).stdout();
        assertThat(listing).contains("unicode/ünïcødé").contains("unicode/emoji-😀");
    }

    @Test
    void tarballsGiveTheSameFileSystemAsTheirDirectory() throws IOException {
        Path tree = work.resolve("t");
        new NastyTree(300, false).create(tree, false);
        Path tar = work.resolve("t.tar");
        ToolOracle.require("bsdtar", "libarchive-tools");
        sh(work, "bsdtar --xattrs -cf " + q(tar) + " -C " + q(tree) + " .").assertExit(0);
        sh(work, "gzip -k " + q(tar) + " && zstd -q -k " + q(tar) + " && xz -k " + q(tar)).assertExit(0);
        Path fromDir = work.resolve("dir.sqfs");
        // tar has no sockets: leave the tree's one out of the directory image too
        sh(work, q(launcher) + " squashfs create " + q(tree) + " " + q(fromDir) + " -e dev/socket").assertExit(0);
        ToolOracle sqfsdiff = ToolOracle.require("sqfsdiff", "squashfs-tools-ng");
        for (String source : List.of("t.tar", "t.tar.gz", "t.tar.zst", "t.tar.xz", "-")) {
            Path img = work.resolve("from-" + source.replace('.', '-') + ".sqfs");
            String in = source.equals("-") ? " - " + q(img) + " < " + q(tar) : " " + q(work.resolve(source)) + " " + q(img);
            sh(work, q(launcher) + " squashfs create" + in).assertExit(0);
            ToolOracle.Result d = sqfsdiff.run(LONG, work, List.of("-a", fromDir.toString(), "-b", img.toString()), null);
            assertThat(d.stdout() + d.stderr()).as("sqfsdiff dir vs " + source).isEmpty();
            d.assertExit(0);
        }
    }
}
