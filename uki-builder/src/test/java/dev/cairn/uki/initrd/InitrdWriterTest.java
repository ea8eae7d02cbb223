package dev.cairn.uki.initrd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdInputStream;
import dev.cairn.testing.SeededData;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.XZInputStream;

class InitrdWriterTest {
    @TempDir
    Path dir;

    /** One newc header + name + padding + data + padding, encoded independently of the writer (buffer-format.rst). */
    static void newc(ByteArrayOutputStream out, String name, long ino, int mode, long nlink, long mtime, byte[] data, int rdevMajor,
            int rdevMinor) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
        String h = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", ino, mode, 0, 0, nlink, mtime,
                data.length, 0, 0, rdevMajor, rdevMinor, n.length, 0);
        out.writeBytes(h.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(n);
        while (out.size() % 4 != 0) {
            out.write(0);
        }
        out.writeBytes(data);
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }

    static byte[] write(InitrdOptions o, Adder adder) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InitrdWriter w = new InitrdWriter(out, o)) {
            adder.add(w);
            InitrdResult r = w.finish();
            assertThat(r.size()).isEqualTo(out.size());
            assertThat(r.sha256()).isEqualTo(sha256(out.toByteArray()));
        }
        return out.toByteArray();
    }

    interface Adder {
        void add(InitrdWriter w) throws IOException;
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void goldenSmallArchive() throws IOException {
        byte[] hello = "cairn\n".getBytes(StandardCharsets.UTF_8);
        // Added out of order: the archive is sorted by path bytes, inodes follow archive order.
        byte[] got = write(InitrdOptions.defaults(InitrdCompression.NONE).withMtime(1_700_000_000L), w -> {
            w.addSymlink("link", InitrdAttributes.root(0644), "etc/hostname");
            w.addHardLink("etc/name", addHost(w, hello));
            w.addDirectory("dev", InitrdAttributes.root(0755));
            w.addDevice("dev/console", InitrdAttributes.root(0600), 'c', 5, 1);
            w.addDirectory("etc/sub", InitrdAttributes.root(0700));
            w.addFifo("fifo", InitrdAttributes.root(0644));
        });
        long t = 1_700_000_000L;
        ByteArrayOutputStream x = new ByteArrayOutputStream();
        newc(x, "dev", 1, 040755, 2, t, new byte[0], 0, 0);
        newc(x, "dev/console", 2, 020600, 1, t, new byte[0], 5, 1);
        newc(x, "etc", 3, 040755, 3, t, new byte[0], 0, 0);
        newc(x, "etc/hostname", 4, 0100644, 2, t, new byte[0], 0, 0); // first name of the hard link: no data
        newc(x, "etc/name", 4, 0100644, 2, t, hello, 0, 0); // last name carries the data
        newc(x, "etc/sub", 5, 040700, 2, t, new byte[0], 0, 0);
        newc(x, "fifo", 6, 010644, 1, t, new byte[0], 0, 0);
        newc(x, "link", 7, 0120777, 1, t, "etc/hostname".getBytes(StandardCharsets.UTF_8), 0, 0);
        newc(x, "TRAILER!!!", 0, 0, 1, 0, new byte[0], 0, 0);
        while (x.size() % 512 != 0) {
            x.write(0);
        }
        assertThat(HexFormat.of().formatHex(got)).isEqualTo(HexFormat.of().formatHex(x.toByteArray()));
        assertThat(got.length % 512).isZero();
    }

    private static String addHost(InitrdWriter w, byte[] content) throws IOException {
        w.addDirectory("etc", InitrdAttributes.root(0755));
        w.addFile("etc/hostname", InitrdAttributes.root(0644), content);
        return "etc/hostname";
    }

    Path tree(String name, long mtime, boolean reverse) throws IOException {
        Path t = dir.resolve(name);
        String[] files = {"bin/busybox", "etc/hostname", "etc/ünïcode", "init", "z/deep/er/file"};
        if (reverse) {
            java.util.Collections.reverse(java.util.Arrays.asList(files));
        }
        for (String f : files) {
            Path p = t.resolve(f);
            Files.createDirectories(p.getParent());
            Files.write(p, SeededData.bytes(f.hashCode(), 5000 + f.length()));
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(f.equals("init") ? "rwxr-xr-x" : "rw-r--r--"));
        }
        Files.createSymbolicLink(t.resolve("bin/sh"), Path.of("busybox"));
        Files.createLink(t.resolve("bin/hardsh"), t.resolve("bin/busybox"));
        try (var s = Files.walk(t)) {
            for (Path p : s.toList()) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
                Files.getFileAttributeView(p, java.nio.file.attribute.BasicFileAttributeView.class, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        .setTimes(FileTime.fromMillis(mtime), null, null);
            }
        }
        return t;
    }

    @Test
    void sameTreeGivesSameBytesWhateverTheFileTimesAndCreationOrder() throws IOException {
        Path a = tree("a", 1_000_000_000_000L, false);
        Path b = tree("b", 1_600_000_000_123L, true);
        for (InitrdCompression c : InitrdCompression.values()) {
            InitrdOptions o = InitrdOptions.defaults(c).withMtime(42);
            byte[] first = write(o, w -> InitrdTree.add(a, w, false, Set.of()));
            byte[] second = write(o, w -> InitrdTree.add(b, w, false, Set.of()));
            assertThat(second).as(c.label()).isEqualTo(first);
        }
        byte[] other = write(InitrdOptions.defaults(InitrdCompression.NONE).withMtime(43), w -> InitrdTree.add(a, w, false, Set.of()));
        assertThat(other).as("the mtime option shows").isNotEqualTo(write(InitrdOptions.defaults(InitrdCompression.NONE).withMtime(42),
                w -> InitrdTree.add(a, w, false, Set.of())));
    }

    @Test
    void compressedVariantsDecompressToTheSameCpioWithKernelFriendlyHeaders() throws IOException {
        Path t = tree("t", 0, false);
        byte[] plain = write(InitrdOptions.defaults(InitrdCompression.NONE), w -> InitrdTree.add(t, w, false, Set.of()));
        byte[] gz = write(InitrdOptions.defaults(InitrdCompression.GZIP), w -> InitrdTree.add(t, w, false, Set.of()));
        byte[] xz = write(InitrdOptions.defaults(InitrdCompression.XZ), w -> InitrdTree.add(t, w, false, Set.of()));
        byte[] zst = write(InitrdOptions.defaults(InitrdCompression.ZSTD), w -> InitrdTree.add(t, w, false, Set.of()));
        assertThat(new GZIPInputStream(new ByteArrayInputStream(gz)).readAllBytes()).isEqualTo(plain);
        assertThat(new XZInputStream(new ByteArrayInputStream(xz)).readAllBytes()).isEqualTo(plain);
        try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(zst))) {
            assertThat(in.readAllBytes()).isEqualTo(plain);
        }
        // gzip: deflate, no FNAME/FCOMMENT flags, MTIME 0, OS Unix (RFC 1952 §2.3).
        assertThat(HexFormat.of().formatHex(gz, 0, 4)).isEqualTo("1f8b0800");
        assertThat(HexFormat.of().formatHex(gz, 4, 8)).isEqualTo("00000000");
        assertThat(gz[9]).isEqualTo((byte) 3);
        // xz stream flags: check type 1 = CRC32 (the kernel's decoder has no CRC64 or SHA-256).
        assertThat(HexFormat.of().formatHex(xz, 0, 8)).isEqualTo("fd377a585a000001");
        // zstd frame magic.
        assertThat(HexFormat.of().formatHex(zst, 0, 4)).isEqualTo("28b52ffd");
    }

    @Test
    void keepOwnerStoresTheFilesOwner() throws IOException {
        Path t = tree("t", 0, false);
        byte[] root = write(InitrdOptions.defaults(InitrdCompression.NONE), w -> InitrdTree.add(t, w, false, Set.of()));
        byte[] kept = write(InitrdOptions.defaults(InitrdCompression.NONE), w -> InitrdTree.add(t, w, true, Set.of()));
        int uid = (Integer) Files.getAttribute(t.resolve("init"), "unix:uid");
        int gid = (Integer) Files.getAttribute(t.resolve("init"), "unix:gid");
        assertThat(kept.length).isEqualTo(root.length);
        if (uid == 0 && gid == 0) {
            assertThat(kept).isEqualTo(root);
        } else {
            assertThat(new String(kept, StandardCharsets.US_ASCII)).contains(String.format("%08x%08x", uid, gid));
        }
    }

    @Test
    void treeSkipsGivenPathsAndKeepsHardLinksTogether() throws IOException {
        Path t = tree("t", 0, false);
        byte[] all = write(InitrdOptions.defaults(InitrdCompression.NONE), w -> InitrdTree.add(t, w, false, Set.of()));
        String s = new String(all, StandardCharsets.ISO_8859_1);
        String unicode = new String("etc/ünïcode\0".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        assertThat(s).contains("bin/hardsh\0").contains("z/deep/er/file\0").contains(unicode);
        byte[] skipped = write(InitrdOptions.defaults(InitrdCompression.NONE),
                w -> InitrdTree.add(t, w, false, Set.of(t.resolve("init").toAbsolutePath().normalize())));
        assertThat(new String(skipped, StandardCharsets.ISO_8859_1)).doesNotContain("init\0");
    }

    @Test
    void refusesWhatItCannotWriteFaithfully() throws IOException {
        InitrdWriter w = new InitrdWriter(new ByteArrayOutputStream(), InitrdOptions.defaults(InitrdCompression.NONE));
        for (String bad : new String[] {"", "/abs", "a/", "a//b", "./a", "a/../b", "TRAILER!!!", "a\0b"}) {
            assertThatThrownBy(() -> w.addDirectory(bad, InitrdAttributes.root(0755))).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        w.addDirectory("d", InitrdAttributes.root(0755));
        assertThatThrownBy(() -> w.addDirectory("d", InitrdAttributes.root(0755))).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> w.addHardLink("h", "d")).hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> w.addHardLink("h", "nope")).hasMessageContaining("no entry");
        assertThatThrownBy(() -> w.addDevice("d/x", InitrdAttributes.root(0600), 'x', 1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InitrdAttributes.root(010000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new InitrdOptions(InitrdCompression.GZIP, 10, 0)).hasMessageContaining("gzip level");
        assertThatThrownBy(() -> InitrdCompression.parse("lz4")).hasMessageContaining("zstd, gzip, xz or none");
        w.addFile("orphan/file", InitrdAttributes.root(0644), new byte[1]);
        assertThatThrownBy(w::finish).hasMessageContaining("parent directory orphan was not added");
        assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> w.addDirectory("late", InitrdAttributes.root(0755))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void fileThatChangesSizeIsAnError() throws IOException {
        Path f = dir.resolve("f");
        Files.write(f, new byte[100]);
        InitrdWriter w = new InitrdWriter(new ByteArrayOutputStream(), InitrdOptions.defaults(InitrdCompression.ZSTD));
        w.addFile("f", InitrdAttributes.root(0644), f);
        Files.write(f, new byte[200]);
        assertThatThrownBy(w::finish).isInstanceOf(IOException.class).hasMessageContaining("grew");
        w.close();
    }
}
