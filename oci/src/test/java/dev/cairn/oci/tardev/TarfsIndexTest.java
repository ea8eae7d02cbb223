package dev.cairn.oci.tardev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tarfs index read back: what the node's tarfs will show for each member of the corpus. */
class TarfsIndexTest {
    @TempDir
    Path dir;

    record Inode(int mode, int flags, long mtime, int owner, int group, long size, long offset) {
    }

    /** Reads the index (appended to {@code tar}) back into path → inode, following directory entries from the root. */
    static Map<String, Inode> read(byte[] tar, byte[] index) {
        byte[] all = new byte[tar.length + index.length];
        System.arraycopy(tar, 0, all, 0, tar.length);
        System.arraycopy(index, 0, all, tar.length, index.length);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long sbAt = all.length - 512;
        long table = b.getLong((int) sbAt);
        long count = b.getLong((int) sbAt + 8);
        assertThat(table).isEqualTo(tar.length);
        Map<String, Inode> out = new HashMap<>();
        walk(b, table, count, 1, "", out);
        return out;
    }

    static Inode inode(ByteBuffer b, long table, long ino) {
        int at = (int) (table + (ino - 1) * 32);
        int hm = b.get(at + 3) & 0xf;
        return new Inode(b.getShort(at) & 0xffff, b.get(at + 2), ((long) hm << 32) | (b.getInt(at + 12) & 0xffffffffL),
                b.getInt(at + 4), b.getInt(at + 8), b.getLong(at + 16), b.getLong(at + 24));
    }

    static void walk(ByteBuffer b, long table, long count, long ino, String path, Map<String, Inode> out) {
        Inode n = inode(b, table, ino);
        out.put(path.isEmpty() ? "/" : path, n);
        if ((n.mode() & TarfsIndex.S_IFMT) != TarfsIndex.S_IFDIR) {
            return;
        }
        for (long d = n.offset(); d < n.offset() + n.size(); d += 32) {
            long child = b.getLong((int) d);
            int nameOff = (int) b.getLong((int) d + 8);
            int nameLen = (int) b.getLong((int) d + 16);
            assertThat(child).isBetween(1L, count);
            String name = new String(b.array(), nameOff, nameLen, StandardCharsets.UTF_8);
            walk(b, table, count, child, path + "/" + name, out);
        }
    }

    private static String at(byte[] all, long offset, long size) {
        return new String(all, (int) offset, (int) size, StandardCharsets.UTF_8);
    }

    @Test
    void theIndexDescribesTheLayerAsTheNodeWillSeeIt() throws Exception {
        for (boolean posix : new boolean[] {false, true}) {
            Path tarFile = TardevCorpus.full(dir.resolve("l" + posix + ".tar"), posix);
            TarfsIndex.Result r;
            try (FileChannel ch = FileChannel.open(tarFile)) {
                r = TarfsIndex.build(ch);
            }
            byte[] tar = Files.readAllBytes(tarFile);
            byte[] all = new byte[tar.length + r.index().length];
            System.arraycopy(tar, 0, all, 0, tar.length);
            System.arraycopy(r.index(), 0, all, tar.length, r.index().length);
            Map<String, Inode> fs = read(tar, r.index());

            assertThat(fs.get("/").mode()).isEqualTo(TarfsIndex.S_IFDIR | 0755);
            // a directory member after its contents replaces them (the snapshotter's rule): usr/bin/tool is gone
            assertThat(fs.get("/usr").mode()).isEqualTo(TarfsIndex.S_IFDIR | 0755);
            assertThat(fs.get("/usr").size()).isZero();
            assertThat(fs).doesNotContainKey("/usr/bin");
            Inode tool = fs.get("/sbin/tool");
            assertThat(tool.mode()).as("set-id bits are dropped").isEqualTo(TarfsIndex.S_IFREG | 0755);
            assertThat(at(all, tool.offset(), tool.size())).isEqualTo("#!/bin/sh\necho sbin\n");
            assertThat(fs.get("/srv").mode()).as("a parent the tar never lists").isZero();
            assertThat(fs).as("a directory of mode 0 lists nothing").doesNotContainKey("/srv/data");
            assertThat(fs.get("/etc").mode()).isEqualTo(TarfsIndex.S_IFDIR | 0750);
            Inode host = fs.get("/etc/hostname");
            assertThat(host.owner()).isEqualTo(1000);
            assertThat(at(all, host.offset(), host.size())).isEqualTo("cairn\n");
            assertThat(fs.get("/etc/hard")).as("a hard link shares the inode").isEqualTo(host);
            assertThat(fs.get("/etc/empty").size()).isZero();
            assertThat(fs.get("/etc/big").size()).isEqualTo(70_000);
            Inode shortLink = fs.get("/etc/short-link");
            assertThat(shortLink.mode()).isEqualTo(TarfsIndex.S_IFLNK | 0777);
            assertThat(at(all, shortLink.offset(), shortLink.size())).isEqualTo("hostname");
            Inode longLink = fs.get("/etc/long-link");
            assertThat(at(all, longLink.offset(), longLink.size())).isEqualTo("target/".repeat(20) + "end");
            assertThat(fs.get("/dev/null").mode()).isEqualTo(TarfsIndex.S_IFCHR | 0666);
            assertThat(fs.get("/dev/null").offset()).isEqualTo((1L << 32) | 3);
            assertThat(fs.get("/dev/sda").mode()).isEqualTo(TarfsIndex.S_IFBLK | 0666);
            assertThat(fs.get("/run/fifo").mode()).isEqualTo(TarfsIndex.S_IFIFO | 0600);
            assertThat(fs.get("/var/removed").mode()).as("an aufs whiteout is a 0:0 character device").isEqualTo(TarfsIndex.S_IFCHR);
            assertThat(fs.get("/var/removed").offset()).isZero();
            assertThat(fs.get("/opt").flags()).as("opaque marker").isEqualTo(1);
            assertThat(fs).doesNotContainKey("/opt/.wh..wh..opq");
            Inode replaced = fs.get("/etc/replaced");
            assertThat(at(all, replaced.offset(), replaced.size())).isEqualTo("new content\n");
            assertThat(replaced.mtime()).as("36-bit mtime").isEqualTo(5_000_000_000L);
            // the uid comes from the header: GNU base-256 carries it, a PAX record does not count
            assertThat(replaced.owner()).isEqualTo(posix ? 0 : (int) 4_000_000_000L);
            assertThat(fs.get("/b/c")).isNotNull();
            assertThat(fs.keySet()).noneMatch(p -> p.contains("escape"));
            assertThat(fs.keySet()).anyMatch(p -> p.endsWith("/file-with-a-long-name-" + "n".repeat(40)));
            assertThat(all.length % 4096).isZero();
        }
    }

    @Test
    void hardLinkCyclesAndDamagedHeadersAreRefused() throws Exception {
        Path cyclic = dir.resolve("cycle.tar");
        try (OutputStream os = Files.newOutputStream(cyclic); TarArchiveOutputStream t = new TarArchiveOutputStream(os)) {
            TardevCorpus.file(t, "a", 0644, "x", 1, 0, 0);
            TarArchiveEntry link = new TarArchiveEntry("a/b", TarConstants.LF_LINK);
            link.setLinkName("a");
            t.putArchiveEntry(link);
            t.closeArchiveEntry();
        }
        try (FileChannel ch = FileChannel.open(cyclic)) {
            assertThatThrownBy(() -> TarfsIndex.build(ch)).isInstanceOf(FormatException.class).hasMessageContaining("cycle");
        }
        Path good = TardevCorpus.full(dir.resolve("good.tar"), false);
        byte[] bytes = Files.readAllBytes(good);
        bytes[0] ^= 1; // first header's checksum no longer matches
        Path bad = Files.write(dir.resolve("bad.tar"), bytes);
        try (FileChannel ch = FileChannel.open(bad)) {
            assertThatThrownBy(() -> TarfsIndex.build(ch)).isInstanceOf(FormatException.class).hasMessageContaining("checksum");
        }
        byte[] truncated = java.util.Arrays.copyOf(Files.readAllBytes(good), 1024 + 100); // inside usr/bin/tool's data
        Path cut = Files.write(dir.resolve("cut.tar"), truncated);
        try (FileChannel ch = FileChannel.open(cut)) {
            assertThatThrownBy(() -> TarfsIndex.build(ch)).isInstanceOf(FormatException.class);
        }
    }
}
