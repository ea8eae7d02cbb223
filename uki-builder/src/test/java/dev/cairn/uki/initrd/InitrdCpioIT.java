package dev.cairn.uki.initrd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GNU cpio and libarchive's bsdcpio read cairn's initramfs; gzip, xz and zstd decompress it. */
class InitrdCpioIT {
    @TempDir
    Path dir;

    Path tree() throws IOException {
        Path t = dir.resolve("tree");
        Files.createDirectories(t.resolve("bin"));
        Files.createDirectories(t.resolve("etc/ssl"));
        Files.createDirectories(t.resolve("empty"));
        Files.write(t.resolve("bin/tool"), SeededData.bytes(1, 200_003));
        Files.writeString(t.resolve("etc/hostname"), "cairn\n");
        Files.writeString(t.resolve("etc/ssl/ünïcode name"), "x");
        Files.write(t.resolve("init"), new byte[0]);
        Files.createSymbolicLink(t.resolve("bin/sh"), Path.of("tool"));
        Files.createLink(t.resolve("bin/tool2"), t.resolve("bin/tool"));
        ToolOracle chmod = ToolOracle.require("chmod", "coreutils"); // the JDK cannot set setuid or sticky bits
        chmod.runOk("4750", t.resolve("bin/tool").toString());
        chmod.runOk("1777", t.resolve("empty").toString());
        Files.setPosixFilePermissions(t.resolve("init"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(t.resolve("etc/hostname"), PosixFilePermissions.fromString("rw-r-----"));
        ToolOracle.require("mkfifo", "coreutils").runOk(t.resolve("fifo").toString());
        return t;
    }

    Path write(Path tree, InitrdCompression c, String name) throws IOException {
        Path out = dir.resolve(name);
        try (OutputStream os = Files.newOutputStream(out); InitrdWriter w = new InitrdWriter(os, InitrdOptions.defaults(c).withMtime(1_700_000_000L))) {
            InitrdTree.add(tree, w, false, Set.of());
            w.finish();
        }
        return out;
    }

    static final List<String> EXPECTED = List.of("bin", "bin/sh", "bin/tool", "bin/tool2", "empty", "etc", "etc/hostname",
            "etc/ssl", "etc/ssl/ünïcode name", "fifo", "init");

    @Test
    void gnuCpioListsAndExtractsExactlyTheTree() throws IOException {
        ToolOracle cpio = ToolOracle.require("cpio", "cpio");
        Path t = tree();
        Path archive = write(t, InitrdCompression.NONE, "initrd.cpio");
        byte[] bytes = Files.readAllBytes(archive);

        ToolOracle.Result list = cpio.run(Duration.ofMinutes(1), null, List.of("-it", "--quiet"), bytes).assertExit(0);
        assertThat(list.stdout().lines().toList()).containsExactlyElementsOf(EXPECTED);

        List<String> verbose = cpio.run(Duration.ofMinutes(1), null, List.of("-itv", "--quiet"), bytes).assertExit(0).stdout().lines().toList();
        assertThat(verbose).hasSize(EXPECTED.size());
        assertThat(verbose).allMatch(l -> l.matches("\\S+ +\\d+ root +root .*"), "owned by root:root");
        assertThat(verbose.get(0)).startsWith("drwxr-xr-x   2 root");
        assertThat(verbose.get(5)).as("etc: 2 + one subdirectory").startsWith("drwxr-xr-x   3 root");
        assertThat(verbose.get(1)).startsWith("lrwxrwxrwx").endsWith("bin/sh -> tool");
        assertThat(verbose.get(2)).startsWith("-rwsr-x---   2 root");
        assertThat(verbose.get(4)).startsWith("drwxrwxrwt   2 root");
        assertThat(verbose.get(6)).startsWith("-rw-r-----   1 root").contains("Nov 14  2023");
        assertThat(verbose.get(9)).startsWith("prw-r--r--");

        Path x = Files.createDirectory(dir.resolve("x"));
        cpio.run(Duration.ofMinutes(1), x, List.of("-idm", "--quiet", "--no-absolute-filenames"), bytes).assertExit(0);
        assertSameTree(t, x);
        assertThat(Files.getAttribute(x.resolve("bin/tool"), "unix:ino")).as("hard link restored")
                .isEqualTo(Files.getAttribute(x.resolve("bin/tool2"), "unix:ino"));
        assertThat(Files.getLastModifiedTime(x.resolve("etc/hostname")).toMillis()).isEqualTo(1_700_000_000_000L);
    }

    @Test
    void bsdcpioListsTheSameEntries() throws IOException {
        ToolOracle bsdcpio = ToolOracle.require("bsdcpio", "libarchive-tools");
        Path archive = write(tree(), InitrdCompression.NONE, "initrd.cpio");
        ToolOracle.Result r = bsdcpio.run(Duration.ofMinutes(1), null, List.of("-it"), Files.readAllBytes(archive)).assertExit(0);
        assertThat(r.stdout().lines().toList()).containsExactlyElementsOf(EXPECTED);
        Path x = Files.createDirectory(dir.resolve("x"));
        bsdcpio.run(Duration.ofMinutes(1), x, List.of("-id"), Files.readAllBytes(archive)).assertExit(0);
        assertSameTree(dir.resolve("tree"), x);
    }

    @Test
    void compressedArchivesDecompressWithTheStandardTools() throws IOException {
        Path t = tree();
        byte[] plain = Files.readAllBytes(write(t, InitrdCompression.NONE, "initrd.cpio"));
        record Tool(InitrdCompression c, String tool, String pkg) {
        }
        for (Tool tool : List.of(new Tool(InitrdCompression.ZSTD, "zstd", "zstd"), new Tool(InitrdCompression.GZIP, "gzip", "gzip"),
                new Tool(InitrdCompression.XZ, "xz", "xz-utils"))) {
            Path archive = write(t, tool.c(), "initrd." + tool.c().label());
            ToolOracle o = ToolOracle.require(tool.tool(), tool.pkg());
            // -t as well: the integrity checks (gzip CRC, xz CRC32, zstd content checksum) pass.
            o.run(Duration.ofMinutes(1), null, List.of("-t", archive.toString()), null).assertExit(0);
            ToolOracle.Result r = o.run(Duration.ofMinutes(1), null, List.of("-dc", archive.toString()), null).assertExit(0);
            assertThat(r.stdout().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1).length).isPositive();
            Path out = dir.resolve("d." + tool.c().label());
            Files.write(out, new byte[0]);
            decompressTo(o, archive, out);
            assertThat(Files.readAllBytes(out)).as(tool.tool()).isEqualTo(plain);
        }
        ToolOracle xz = ToolOracle.require("xz", "xz-utils");
        assertThat(xz.runOk("--robot", "--list", dir.resolve("initrd.xz").toString()).stdout()).contains("CRC32");
    }

    /** stdout of ToolOracle is text; binary output goes through a shell redirect. */
    private static void decompressTo(ToolOracle tool, Path archive, Path out) {
        ToolOracle.require("sh", "dash").runOk("-c", "\"$0\" -dc \"$1\" > \"$2\"", tool.executable().toString(), archive.toString(), out.toString());
    }

    static void assertSameTree(Path expected, Path actual) throws IOException {
        List<String> a = listing(expected);
        List<String> b = listing(actual);
        assertThat(b).containsExactlyElementsOf(a);
    }

    /** path, type, permissions, and content or link target of every entry below {@code root}. */
    static List<String> listing(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted().toList()) {
                if (p.equals(root)) {
                    continue;
                }
                String rel = root.relativize(p).toString();
                int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                String what;
                if (Files.isSymbolicLink(p)) {
                    what = "-> " + Files.readSymbolicLink(p);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    what = java.util.HexFormat.of().formatHex(InitrdWriterTest.sha256(Files.readAllBytes(p)));
                    what += " " + Integer.toOctalString(mode & 07777);
                } else {
                    what = Integer.toOctalString(mode & 07777);
                }
                out.add(rel + " " + Integer.toOctalString(mode & 0170000) + " " + what);
            }
        }
        return out;
    }
}
