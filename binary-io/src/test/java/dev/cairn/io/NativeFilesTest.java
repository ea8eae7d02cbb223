package dev.cairn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeFilesTest {
    @BeforeAll
    static void linux() {
        boolean linux = System.getProperty("os.name").equals("Linux");
        if (linux) {
            // JNA ships linux-x86-64 and linux-aarch64 natives: on Linux the binding must load
            assertThat(NativeFiles.unavailable()).as("why JNA did not load").isNull();
        }
        Assumptions.assumeTrue(linux, "Linux only");
    }

    @Test
    void readsWhatTheJdkWroteAndTheJdkReadsWhatItWrites(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("f"), "x");
        UserDefinedFileAttributeView v = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
        v.write("jdk", ByteBuffer.wrap(new byte[] {0, 1, (byte) 0xff}));
        byte[] big = new byte[3000]; // ext4 keeps all of a file's attributes in one 4 KiB block
        big[big.length - 1] = 7;
        NativeFiles.setXattr(f, "user.native", big);
        NativeFiles.setXattr(f, "user.empty", new byte[0]);

        NativeFiles.Xattrs x = NativeFiles.readXattrs(f);
        assertThat(x.values()).containsOnlyKeys("user.jdk", "user.native", "user.empty");
        assertThat(x.values().get("user.jdk")).containsExactly(0, 1, 0xff);
        assertThat(x.values().get("user.native")).isEqualTo(big);
        assertThat(x.values().get("user.empty")).isEmpty();
        assertThat(x.unreadable()).isEmpty();
        ByteBuffer b = ByteBuffer.allocate(v.size("native"));
        v.read("native", b);
        assertThat(b.array()).isEqualTo(big);
    }

    @Test
    void neverFollowsASymlink(@TempDir Path dir) throws IOException {
        Path target = Files.writeString(dir.resolve("target"), "x");
        NativeFiles.setXattr(target, "user.on-target", "t".getBytes(StandardCharsets.UTF_8));
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertThat(NativeFiles.readXattrs(link).values()).isEmpty();
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nothing"));
        assertThat(NativeFiles.readXattrs(dangling).values()).isEmpty();
        // the kernel allows user. attributes only on files and directories: a symlink refuses them
        assertThatThrownBy(() -> NativeFiles.setXattr(link, "user.x", new byte[1])).isInstanceOf(IOException.class)
                .hasMessageContaining("lsetxattr user.x");
        if (root()) {
            NativeFiles.setXattr(link, "trusted.on-link", "l".getBytes(StandardCharsets.UTF_8));
            assertThat(NativeFiles.readXattrs(link).values()).containsOnlyKeys("trusted.on-link");
            assertThat(NativeFiles.readXattrs(target).values()).containsOnlyKeys("user.on-target");
        }
    }

    @Test
    void missingFilesAndNamesWithNulAreErrors(@TempDir Path dir) {
        assertThatThrownBy(() -> NativeFiles.readXattrs(dir.resolve("missing"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("llistxattr");
        assertThatThrownBy(() -> NativeFiles.setXattr(dir, "user.x", new byte[NativeFiles.MAX_XATTR_BYTES + 1]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void allocatedBytesTellsSparseFromDense(@TempDir Path dir) throws IOException {
        Path dense = dir.resolve("dense");
        Files.write(dense, new byte[1 << 20]);
        Path sparse = dir.resolve("sparse");
        try (RandomAccessFile r = new RandomAccessFile(sparse.toFile(), "rw")) {
            r.setLength(1 << 20);
        }
        Assumptions.assumeTrue(NativeFiles.statxUnavailable() == null, "statx: " + NativeFiles.statxUnavailable());
        assertThat(NativeFiles.allocatedBytes(dense)).isGreaterThanOrEqualTo(1 << 20);
        assertThat(NativeFiles.allocatedBytes(sparse)).isLessThan(1 << 20);
        Path link = Files.createSymbolicLink(dir.resolve("link"), dense);
        assertThat(NativeFiles.allocatedBytes(link)).isLessThan(1 << 20);
    }

    @Test
    void lstatSaysWhatTheJdkSaysOfEveryKindOfEntry(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(NativeFiles.statxUnavailable() == null, "statx: " + NativeFiles.statxUnavailable());
        Path file = Files.write(dir.resolve("file"), new byte[12345]);
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_750L)); // whole seconds: the floor
        Files.createLink(dir.resolve("hard"), file);
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("file"));
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        for (Path p : java.util.List.of(file, sub, link, fifo, Path.of("/dev/null"))) {
            java.util.Map<String, Object> a = Files.readAttributes(p, "unix:mode,ino,dev,nlink,rdev,size,uid,gid,lastModifiedTime",
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            NativeFiles.Stat st = NativeFiles.lstat(p);
            assertThat(st).as(p.toString()).isNotNull();
            assertThat(st.mode()).as(p + " mode").isEqualTo(a.get("mode"));
            assertThat(st.ino()).as(p + " ino").isEqualTo(a.get("ino"));
            assertThat(st.nlink()).as(p + " nlink").isEqualTo(((Integer) a.get("nlink")).longValue());
            assertThat(st.size()).as(p + " size").isEqualTo(a.get("size"));
            assertThat(st.uid()).as(p + " uid").isEqualTo(Integer.toUnsignedLong((Integer) a.get("uid")));
            assertThat(st.gid()).as(p + " gid").isEqualTo(Integer.toUnsignedLong((Integer) a.get("gid")));
            long millis = ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toMillis();
            assertThat(st.mtimeSeconds()).as(p + " mtime").isEqualTo(Math.floorDiv(millis, 1000));
            long rdev = (Long) a.get("rdev");   // glibc's dev_t encoding
            assertThat(st.rdevMajor()).as(p + " rdev major").isEqualTo((int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfff)));
            assertThat(st.rdevMinor()).as(p + " rdev minor").isEqualTo((int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xff)));
        }
        assertThat(NativeFiles.lstat(file).nlink()).isEqualTo(2);
        assertThat(NativeFiles.lstat(file).mtimeSeconds()).isEqualTo(1_700_000_000L);
        assertThat(NativeFiles.lstat(Path.of("/dev/null"))).extracting(NativeFiles.Stat::rdevMajor, NativeFiles.Stat::rdevMinor)
                .containsExactly(1, 3);
        assertThat(NativeFiles.lstat(link).size()).isEqualTo(4);   // the link itself: "file"
        assertThatThrownBy(() -> NativeFiles.lstat(dir.resolve("missing"))).isInstanceOf(NoSuchFileException.class);
    }

    static boolean root() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
