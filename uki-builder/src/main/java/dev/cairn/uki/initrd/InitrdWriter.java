package dev.cairn.uki.initrd;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import dev.cairn.io.CountingOutputStream;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

/**
 * Writes a deterministic initramfs: a newc cpio archive ({@code 070701} headers, kernel
 * {@code Documentation/driver-api/early-userspace/buffer-format.rst}), compressed as the
 * {@link InitrdOptions} say.
 *
 * <p>Entries are collected by the {@code add…} methods and written by {@link #finish()}, sorted by
 * the unsigned UTF-8 bytes of their paths, so a parent always precedes its children and the order
 * of the calls never shows. Every entry gets the options' mtime, device 0:0 and an inode number
 * counting up from 1 in archive order, and the link count a file system would give it (a
 * directory 2 plus its subdirectories); hard links share one inode number, and their data follows
 * the last of their names (as GNU cpio writes them; the kernel and both cpio tools accept this).
 * The archive ends with the {@code TRAILER!!!} entry and is padded to a 512-byte multiple.
 * Paths are relative ({@code bin/sh}), without {@code .} or {@code ..} components; the root
 * directory itself is not an entry (the kernel's rootfs already exists). A path whose parent
 * directory was never added is refused, never guessed.
 *
 * <p>Protocol: {@code add…()} → {@link #finish()} → {@link #close()}. The output stream is not
 * closed: it belongs to the caller.
 */
public final class InitrdWriter implements AutoCloseable {
    static final int S_IFSOCK = CpioConstants.C_ISSOCK;
    static final int S_IFLNK = CpioConstants.C_ISLNK;
    static final int S_IFREG = CpioConstants.C_ISREG;
    static final int S_IFBLK = CpioConstants.C_ISBLK;
    static final int S_IFDIR = CpioConstants.C_ISDIR;
    static final int S_IFCHR = CpioConstants.C_ISCHR;
    static final int S_IFIFO = CpioConstants.C_ISFIFO;
    /** newc stores sizes, ids and times in 8 hex digits. */
    private static final long U32_MAX = 0xFFFF_FFFFL;
    private static final int BLOCK_SIZE = 512;

    private final OutputStream out;
    private final InitrdOptions options;
    private final Map<String, Entry> entries = new HashMap<>();
    private boolean finished;
    private boolean closed;

    /** One archive entry before it is written; {@code linkOf} is the first name of a hard-link group. */
    private record Entry(String path, byte[] name, int type, InitrdAttributes attributes, Path file, byte[] data, long size,
            int rdevMajor, int rdevMinor, Entry linkOf) {
    }

    public InitrdWriter(OutputStream out, InitrdOptions options) {
        if (out == null || options == null) {
            throw new IllegalArgumentException("output and options are required");
        }
        this.out = out;
        this.options = options;
    }

    public void addDirectory(String path, InitrdAttributes attributes) {
        put(new Entry(checkPath(path), name(path), S_IFDIR, attributes, null, null, 0, 0, 0, null));
    }

    /** A regular file whose content is read from {@code content} by {@link #finish()}; it must keep its current size. */
    public void addFile(String path, InitrdAttributes attributes, Path content) throws IOException {
        long size = Files.size(content);
        put(new Entry(checkPath(path), name(path), S_IFREG, attributes, content, null, checkSize(path, size), 0, 0, null));
    }

    /** A regular file with the given content. */
    public void addFile(String path, InitrdAttributes attributes, byte[] content) throws UnsupportedFeatureException {
        byte[] copy = content.clone();
        put(new Entry(checkPath(path), name(path), S_IFREG, attributes, null, copy, checkSize(path, copy.length), 0, 0, null));
    }

    /** A symbolic link; its mode is always {@code 0777} as on Linux, so only the ownership of {@code attributes} is used. */
    public void addSymlink(String path, InitrdAttributes attributes, String target) throws UnsupportedFeatureException {
        if (target.isEmpty() || target.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("symlink " + path + ": target must be non-empty and without NUL");
        }
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        InitrdAttributes a = new InitrdAttributes(0777, attributes.uid(), attributes.gid());
        put(new Entry(checkPath(path), name(path), S_IFLNK, a, null, t, checkSize(path, t.length), 0, 0, null));
    }

    /** A block ({@code 'b'}) or character ({@code 'c'}) device node. */
    public void addDevice(String path, InitrdAttributes attributes, char kind, int major, int minor) {
        if (kind != 'b' && kind != 'c') {
            throw new IllegalArgumentException("device kind must be 'b' or 'c', not '" + kind + "'");
        }
        if (major < 0 || minor < 0) {
            throw new IllegalArgumentException("device numbers must not be negative: " + major + "," + minor);
        }
        put(new Entry(checkPath(path), name(path), kind == 'b' ? S_IFBLK : S_IFCHR, attributes, null, null, 0, major, minor, null));
    }

    public void addFifo(String path, InitrdAttributes attributes) {
        put(new Entry(checkPath(path), name(path), S_IFIFO, attributes, null, null, 0, 0, 0, null));
    }

    public void addSocket(String path, InitrdAttributes attributes) {
        put(new Entry(checkPath(path), name(path), S_IFSOCK, attributes, null, null, 0, 0, 0, null));
    }

    /** Another name for the regular file already added at {@code existing} (same inode, mode and content). */
    public void addHardLink(String path, String existing) {
        Entry e = entries.get(existing);
        if (e == null) {
            throw new IllegalArgumentException("hard link " + path + ": no entry " + existing + " was added before");
        }
        Entry first = e.linkOf() != null ? e.linkOf() : e;
        if (first.type() != S_IFREG) {
            throw new IllegalArgumentException("hard link " + path + ": " + existing + " is not a regular file");
        }
        put(new Entry(checkPath(path), name(path), S_IFREG, first.attributes(), null, null, first.size(), 0, 0, first));
    }

    /** Whether an entry was already added at {@code path} (relative, as given to the add methods). */
    public boolean contains(String path) {
        return entries.containsKey(path);
    }

    /** Whether the entry added at {@code path} is a directory (false when there is none). */
    public boolean isDirectory(String path) {
        Entry e = entries.get(path);
        return e != null && e.type() == S_IFDIR;
    }

    private void put(Entry e) {
        if (finished || closed) {
            throw new IllegalStateException("the initrd is already finished");
        }
        if (entries.putIfAbsent(e.path(), e) != null) {
            throw new IllegalArgumentException("duplicate path " + e.path());
        }
    }

    /** Writes the archive (sorted), the trailer and padding, and finishes the compressed stream. */
    public InitrdResult finish() throws IOException {
        if (finished || closed) {
            throw new IllegalStateException("finish() was already called or the writer is closed");
        }
        finished = true;
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort((a, b) -> Arrays.compareUnsigned(a.name(), b.name()));
        checkParents(sorted);

        // Hard-link groups: how many names, and which one (the last in archive order) carries the data.
        // A directory has 2 + (subdirectories) links, as on a file system.
        Map<Entry, Integer> nlink = new IdentityHashMap<>();
        Map<Entry, Entry> dataCarrier = new IdentityHashMap<>();
        for (Entry e : sorted) {
            Entry group = e.linkOf() != null ? e.linkOf() : e;
            nlink.merge(group, e.type() == S_IFDIR ? 2 : 1, Integer::sum);
            dataCarrier.put(group, e);
            int slash = e.path().lastIndexOf('/');
            if (e.type() == S_IFDIR && slash > 0) {
                nlink.merge(entries.get(e.path().substring(0, slash)), 1, Integer::sum);
            }
        }

        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
        CountingOutputStream written = new CountingOutputStream(new DigestOutputStream(new dev.cairn.io.NonClosingOutputStream(out), sha256));
        OutputStream compressed = compressor(written);
        CountingOutputStream cpioCount = new CountingOutputStream(compressed);
        Map<Entry, Long> inodes = new IdentityHashMap<>();
        long nextInode = 1;
        boolean ok = false;
        try {
            CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(cpioCount, CpioConstants.FORMAT_NEW, BLOCK_SIZE,
                    StandardCharsets.UTF_8.name());
            for (Entry e : sorted) {
                Entry group = e.linkOf() != null ? e.linkOf() : e;
                Long ino = inodes.get(group);
                if (ino == null) {
                    ino = nextInode++;
                    inodes.put(group, ino);
                }
                boolean carriesData = e.type() != S_IFREG || dataCarrier.get(group) == e;
                CpioArchiveEntry c = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, e.path());
                c.setInode(ino);
                c.setMode(e.type() | e.attributes().permissions());
                c.setUID(e.attributes().uid());
                c.setGID(e.attributes().gid());
                c.setNumberOfLinks(nlink.get(group));
                c.setTime(options.mtime());
                c.setDeviceMaj(0);
                c.setDeviceMin(0);
                c.setRemoteDeviceMaj(e.rdevMajor());
                c.setRemoteDeviceMin(e.rdevMinor());
                c.setSize(carriesData ? group.size() : 0);
                cpio.putArchiveEntry(c);
                if (carriesData) {
                    writeContent(cpio, group);
                }
                cpio.closeArchiveEntry();
            }
            cpio.finish(); // trailer, then padding to a 512-byte multiple; the cpio stream holds nothing else
            ok = true;
        } finally {
            if (ok) {
                compressed.close(); // ends the compressed stream; KeepOpen leaves the caller's stream open
            } else {
                try {
                    compressed.close(); // frees native compressor state; the output is garbage anyway
                } catch (IOException | RuntimeException ignored) {
                    // the first failure is the one to report
                }
            }
        }
        written.flush();
        return new InitrdResult(sorted.size(), cpioCount.count(), written.count(), sha256.digest());
    }

    private static void writeContent(CpioArchiveOutputStream cpio, Entry e) throws IOException {
        if (e.data() != null) {
            cpio.write(e.data());
        } else if (e.file() != null) {
            long n;
            try (InputStream in = Files.newInputStream(e.file())) {
                n = in.transferTo(new dev.cairn.io.NonClosingOutputStream(cpio) {
                    private long left = e.size();

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        if (len > left) {
                            throw new IOException(e.file() + ": grew while it was being archived (expected " + e.size() + " bytes)");
                        }
                        left -= len;
                        out.write(b, off, len);
                    }
                });
            }
            if (n != e.size()) {
                throw new IOException(e.file() + ": changed size while it was being archived (" + e.size() + " → " + n + " bytes)");
            }
        }
    }

    private OutputStream compressor(OutputStream sink) throws IOException {
        return switch (options.compression()) {
            case NONE -> new dev.cairn.io.NonClosingOutputStream(sink);
            case GZIP -> {
                GzipParameters p = new GzipParameters();
                p.setCompressionLevel(options.level());
                p.setModificationTime(0);
                p.setFilename(null);
                p.setComment(null);
                p.setOperatingSystem(3); // Unix, as gzip -n writes it
                yield new GzipCompressorOutputStream(sink, p);
            }
            case XZ -> {
                LZMA2Options o = new LZMA2Options(options.level());
                o.setDictSize(Math.min(o.getDictSize(), 1 << 20)); // kernel docs: xz --check=crc32 --lzma2=dict=1MiB
                yield new XZOutputStream(sink, o, XZ.CHECK_CRC32);
            }
            case ZSTD -> {
                ZstdOutputStreamNoFinalizer z = new ZstdOutputStreamNoFinalizer(sink, options.level());
                z.setChecksum(true);
                z.setWorkers(0);
                yield z;
            }
        };
    }

    private static void checkParents(List<Entry> sorted) {
        Map<String, Entry> byPath = new HashMap<>();
        for (Entry e : sorted) {
            byPath.put(e.path(), e);
        }
        for (Entry e : sorted) {
            int slash = e.path().lastIndexOf('/');
            if (slash < 0) {
                continue;
            }
            String parent = e.path().substring(0, slash);
            Entry p = byPath.get(parent);
            if (p == null || p.type() != S_IFDIR) {
                throw new IllegalArgumentException(e.path() + ": parent directory " + parent + " was not added"
                        + (p == null ? "" : " (it is not a directory)"));
            }
        }
    }

    static String checkPath(String path) {
        if (path == null || path.isEmpty() || path.startsWith("/") || path.endsWith("/") || path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("archive path must be relative, non-empty, without NUL or trailing '/': '" + path + "'");
        }
        for (String part : path.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("archive path must not contain empty, '.' or '..' components: '" + path + "'");
            }
        }
        if (path.equals(CpioConstants.CPIO_TRAILER)) {
            throw new IllegalArgumentException("'" + path + "' is the cpio end-of-archive marker");
        }
        return path;
    }

    private static byte[] name(String path) {
        return path.getBytes(StandardCharsets.UTF_8);
    }

    private static long checkSize(String path, long size) throws UnsupportedFeatureException {
        if (size > U32_MAX) {
            throw new UnsupportedFeatureException("c_filesize", size, path + ": newc cpio entries are limited to 4 GiB - 1 bytes");
        }
        return size;
    }

    /** Ends use of the writer; the caller's output stream stays open. */
    @Override
    public void close() {
        closed = true;
    }

}
