package dev.cairn.erofs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Tar layers written with Commons Compress at test time (seeded, no fixtures on disk): the corpus
 * the EROFS writer is compared with mkfs.erofs on.
 */
final class TarCorpus {
    static final long T = 1_700_000_000L;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar;

    TarCorpus() {
        tar = new TarArchiveOutputStream(bytes);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
    }

    private TarCorpus(int gnuLongNames) {
        tar = new TarArchiveOutputStream(bytes);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
    }

    private TarArchiveEntry entry(String name, byte type, int mode, long mtime) {
        TarArchiveEntry e = new TarArchiveEntry(name, type);
        e.setMode(mode);
        e.setModTime(mtime * 1000);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("");
        e.setGroupName("");
        return e;
    }

    TarCorpus dir(String name, int mode) {
        return dir(name, mode, T);
    }

    TarCorpus dir(String name, int mode, long mtime) {
        return put(entry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, mode, mtime), null);
    }

    TarCorpus file(String name, byte[] data) {
        return file(name, 0644, T, data);
    }

    TarCorpus file(String name, int mode, long mtime, byte[] data) {
        TarArchiveEntry e = entry(name, TarConstants.LF_NORMAL, mode, mtime);
        e.setSize(data.length);
        return put(e, data);
    }

    TarCorpus owned(String name, int mode, long uid, long gid, byte[] data) {
        TarArchiveEntry e = entry(name, TarConstants.LF_NORMAL, mode, T);
        e.setUserId(uid);
        e.setGroupId(gid);
        e.setSize(data.length);
        return put(e, data);
    }

    TarCorpus symlink(String name, String target) {
        TarArchiveEntry e = entry(name, TarConstants.LF_SYMLINK, 0777, T);
        e.setLinkName(target);
        return put(e, null);
    }

    TarCorpus hardlink(String name, String target) {
        TarArchiveEntry e = entry(name, TarConstants.LF_LINK, 0644, T);
        e.setLinkName(target);
        return put(e, null);
    }

    TarCorpus device(String name, byte type, int mode, int major, int minor) {
        TarArchiveEntry e = entry(name, type, mode, T);
        if (type != TarConstants.LF_FIFO) {
            e.setDevMajor(major);
            e.setDevMinor(minor);
        }
        return put(e, null);
    }

    /** A file with PAX headers (xattrs, a fractional mtime). */
    TarCorpus withPax(String name, byte type, int mode, byte[] data, Map<String, String> pax) {
        TarArchiveEntry e = entry(name, type, mode, T);
        if (type == TarConstants.LF_NORMAL) {
            e.setSize(data.length);
        }
        pax.forEach(e::addPaxHeader);
        return put(e, data);
    }

    /**
     * A PAX global header ('g') whose records apply to every following entry. Commons Compress keeps
     * only non-standard keywords (such as xattrs) of a global header; uid, mtime etc. it would parse.
     */
    TarCorpus global(Map<String, String> records) {
        TarArchiveEntry e = new TarArchiveEntry("pax_global_header", TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER);
        records.forEach(e::addPaxHeader);
        try {
            tar.putArchiveEntry(e); // written (header and records) at once
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    private TarCorpus put(TarArchiveEntry e, byte[] data) {
        try {
            tar.putArchiveEntry(e);
            if (data != null) {
                tar.write(data);
            }
            tar.closeArchiveEntry();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    byte[] bytes() {
        try {
            tar.finish();
            tar.close();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return bytes.toByteArray();
    }

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String name(char c, int len) {
        return String.valueOf(c).repeat(len);
    }

    /** The corpus: case name to tar bytes. */
    static Map<String, byte[]> all() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("one-file", new TarCorpus().file("hello.txt", text("hello\n")).bytes());
        m.put("empty-files", new TarCorpus().file("empty", new byte[0]).file("e2", new byte[0])
                .file("x", text("x")).bytes());
        m.put("large-file", new TarCorpus().file("small", text("s")).file("big", random(1, 3 * 4096 + 100))
                .file("exact", random(2, 8192)).file("after", text("after\n")).bytes());
        TarCorpus deep = new TarCorpus().dir("a", 0755).dir("a/b", 0755).dir("a/b/c", 0700);
        StringBuilder p = new StringBuilder("a/b/c");
        for (int i = 0; i < 12; i++) {
            p.append("/d").append(i);
            deep.dir(p.toString(), 0755);
        }
        deep.file(p + "/leaf", text("deep"));
        m.put("deep-dirs", deep.bytes());
        TarCorpus wide = new TarCorpus().dir("wide", 0755);
        for (int i = 0; i < 600; i++) {
            wide.file(String.format("wide/entry-with-a-longish-name-%04d", i), i % 7 == 0 ? text("f" + i) : new byte[0]);
        }
        wide.dir("wide/sub", 0755).file("wide/sub/z", text("z")).file("top", text("top"));
        m.put("wide-dir", wide.bytes());
        m.put("symlinks", new TarCorpus().file("target", text("t")).symlink("short", "target")
                .symlink("abs", "/usr/lib/os-release").symlink("long", "x/".repeat(150) + "end")
                .symlink("verylong", "y".repeat(255) + "/" + "z".repeat(255) + "/" + "q".repeat(2500))
                .symlink("dangling", "nowhere").bytes());
        m.put("hardlinks", new TarCorpus().dir("d", 0755).file("d/orig", text("linked data\n"))
                .hardlink("d/link1", "d/orig").hardlink("link2", "d/orig").file("solo", text("solo")).bytes());
        m.put("devices", new TarCorpus().dir("dev", 0755).device("dev/null", TarConstants.LF_CHR, 0666, 1, 3)
                .device("dev/sda", TarConstants.LF_BLK, 0660, 8, 0)
                .device("dev/big", TarConstants.LF_CHR, 0600, 511, 70000)
                .device("dev/fifo", TarConstants.LF_FIFO, 0644, 0, 0).bytes());
        m.put("long-names", new TarCorpus().file(name('a', 101), text("101"))
                .file(name('b', 255), text("255")).dir("dir-" + name('c', 120), 0755)
                .file("dir-" + name('c', 120) + "/" + name('d', 200), text("nested long")).bytes());
        m.put("gnu-long-names", new TarCorpus(1).file(name('g', 150), text("gnu"))
                .symlink("gl", name('t', 180)).owned("bigid", 0644, 3_000_000, 3_000_001, text("id")).bytes());
        byte[] cap = new byte[20];
        cap[0] = 0;
        cap[1] = 0;
        cap[2] = 0;
        cap[3] = 2; // VFS_CAP_REVISION_2
        cap[4] = 0x00;
        cap[5] = 0x04; // CAP_NET_BIND_SERVICE (bit 10)
        Map<String, String> x1 = new LinkedHashMap<>();
        x1.put("SCHILY.xattr.user.comment", "hello xattr");
        x1.put("SCHILY.xattr.trusted.foo", "bar");
        // all bytes < 0x80: the UTF-8 String Commons Compress writes is the raw value
        x1.put("SCHILY.xattr.security.capability", new String(cap, StandardCharsets.ISO_8859_1));
        Map<String, String> x2 = new LinkedHashMap<>();
        x2.put("SCHILY.xattr.user.a", "1");
        x2.put("SCHILY.xattr.user." + name('n', 100), "v".repeat(300));
        m.put("xattrs", new TarCorpus().withPax("bin/ping", TarConstants.LF_NORMAL, 0755, text("ELF"), x1)
                .withPax("etc", TarConstants.LF_DIR, 0755, null, x2).file("etc/plain", text("p")).bytes());
        m.put("whiteouts", new TarCorpus().dir("etc", 0755).file("etc/.wh.passwd", new byte[0])
                .dir("var", 0755).dir("var/cache", 0755).file("var/cache/.wh..wh..opq", new byte[0])
                .file("var/cache/new", text("n")).file(".wh.gone", new byte[0])
                .file("etc/kept", text("k")).bytes());
        m.put("modes-owners", new TarCorpus().owned("suid", 04755, 0, 0, text("s"))
                .owned("sgid", 02711, 1000, 1000, text("g")).owned("sticky-ish", 01777, 65535, 65535, text("t"))
                .owned("bigowner", 0400, 70000, 80000, text("b")).dir("ro", 0500).owned("ro/f", 0, 5, 6, text("0"))
                .bytes());
        m.put("out-of-order", new TarCorpus().file("x/y/z.txt", text("z")).file("x/a.txt", text("a"))
                .dir("x", 0700).dir("x/y", 0750).file("b.txt", text("b")).bytes());
        m.put("mtimes", new TarCorpus().file("epoch", 0644, 0, text("compact")).dir("zero", 0755, 0)
                .file("zero/also", 0644, 0, text("c"))
                .withPax("frac", TarConstants.LF_NORMAL, 0644, text("f"), Map.of("mtime", "1700000000.123456789"))
                .file("later", 0644, T + 5, text("l")).bytes());
        m.put("root-entry", new TarCorpus().dir("./", 0755).dir("./usr", 0755).file("./usr/f", text("f"))
                .bytes());
        m.put("replaced", new TarCorpus().file("dup", text("first version")).file("dup", text("second"))
                .dir("d", 0755).file("d/x", text("x")).file("d", text("now a file")).bytes());
        // tails that cannot sit beside their inode: a directory whose last block holds 4059 bytes of
        // dirents and symlinks of 4070-4095 bytes get a block of their own (mkfs.erofs's ENOSPC path)
        TarCorpus tails = new TarCorpus().dir("big", 0755);
        for (int i = 0; i < 36; i++) {
            tails.file("big/" + String.format("%03d", i) + name('t', 97), new byte[0]);
        }
        tails.symlink("s4095", "l".repeat(4095)).symlink("s4070", "k".repeat(4070));
        TarArchiveEntry compact = tails.entry("s4080-compact", TarConstants.LF_SYMLINK, 0777, 0);
        compact.setLinkName("c".repeat(4080));
        m.put("tail-blocks", tails.put(compact, null).bytes());
        m.put("global-pax", new TarCorpus().global(Map.of("SCHILY.xattr.user.global", "g"))
                .file("a", text("aa")).withPax("b", TarConstants.LF_NORMAL, 0644, text("b"),
                        Map.of("SCHILY.xattr.user.global", "local")).dir("d", 0755).file("d/x", text("x")).bytes());
        return m;
    }

    /**
     * A seeded random layer: nested directories of random widths, names of 1..255 bytes, files of
     * random sizes (some block multiples), symlinks up to 4000 bytes (inline or not), hard links,
     * devices, xattrs of random sizes, whiteouts, mtimes either equal to the build time (compact
     * inodes) or not. Exercises the block placement far beyond the hand-written cases.
     */
    static byte[] randomLayer(long seed) {
        return randomLayer(seed, 255);
    }

    static byte[] randomLayer(long seed, int maxNameLen) {
        Random r = new Random(seed);
        TarCorpus c = new TarCorpus();
        java.util.List<String> dirs = new java.util.ArrayList<>();
        java.util.List<String> files = new java.util.ArrayList<>();
        dirs.add("");
        int n = 20 + r.nextInt(r.nextInt(10) == 0 ? 1500 : 200);
        for (int i = 0; i < n; i++) {
            String parent = dirs.get(r.nextInt(dirs.size()));
            int nameLen = r.nextInt(10) == 0 ? 100 + r.nextInt(156) : 1 + r.nextInt(30);
            StringBuilder nm = new StringBuilder();
            for (int k = 0; k < nameLen; k++) {
                nm.append((char) ('a' + r.nextInt(26)));
            }
            nm.append(i % 10);
            String base = nm.length() > maxNameLen ? nm.substring(nm.length() - maxNameLen) : nm.toString();
            String path = parent.isEmpty() ? base : parent + "/" + base;
            long mtime = r.nextBoolean() ? 0 : T + r.nextInt(1000);
            int kind = r.nextInt(20);
            if (kind < 4) {
                c.dir(path, r.nextBoolean() ? 0755 : 0700, mtime);
                dirs.add(path);
            } else if (kind < 12) {
                int size = switch (r.nextInt(5)) {
                    case 0 -> 0;
                    case 1 -> 4096 * (1 + r.nextInt(3));
                    case 2 -> r.nextInt(100_000);
                    default -> r.nextInt(5000);
                };
                c.file(path, 0644, mtime, random(r.nextLong(), size));
                files.add(path);
            } else if (kind < 14) {
                int len = r.nextInt(4) == 0 ? 3000 + r.nextInt(1000) : 1 + r.nextInt(300);
                c.symlink(path, "t".repeat(len));
            } else if (kind < 15 && !files.isEmpty()) {
                c.hardlink(path, files.get(r.nextInt(files.size())));
            } else if (kind < 16) {
                c.device(path, r.nextBoolean() ? TarConstants.LF_CHR : TarConstants.LF_FIFO, 0644, r.nextInt(300),
                        r.nextInt(3000));
            } else if (kind < 18) {
                Map<String, String> x = new LinkedHashMap<>();
                int nx = 1 + r.nextInt(4);
                for (int k = 0; k < nx; k++) {
                    x.put("SCHILY.xattr." + (r.nextBoolean() ? "user." : "trusted.") + "k" + k + "x".repeat(r.nextInt(40)),
                            "v".repeat(1 + r.nextInt(r.nextInt(5) == 0 ? 3000 : 60))); // (Commons Compress reads an empty PAX value as "unset")
                }
                c.withPax(path, TarConstants.LF_NORMAL, 0640, random(r.nextLong(), r.nextInt(3000)), x);
            } else {
                c.file((parent.isEmpty() ? "" : parent + "/") + ".wh." + base, 0644, mtime, new byte[0]);
            }
        }
        return c.bytes();
    }

    /**
     * Binary xattr values as bsdtar writes them: LIBARCHIVE.xattr.NAME (URL-encoded) = RFC 4648 base64.
     * Values are multiples of 3 bytes: erofs-utils 1.8 rejects ("Structure needs cleaning") padded
     * values whose leftover bits its decoder does not consume.
     */
    static byte[] libarchiveXattrs() {
        Map<String, String> x = new LinkedHashMap<>();
        x.put("LIBARCHIVE.xattr.user.bin", Base64.getEncoder().encodeToString(new byte[] {0, 1, 2, (byte) 0xFF, 0x7F, 0x10}));
        x.put("LIBARCHIVE.xattr.user.sp%20ace", Base64.getEncoder().encodeToString(text("spaced name!")));
        x.put("LIBARCHIVE.xattr.user.aligned", Base64.getEncoder().encodeToString(text("abc")));
        return new TarCorpus().withPax("f", TarConstants.LF_NORMAL, 0644, text("data"), x).bytes();
    }

    static Instant t() {
        return Instant.ofEpochSecond(T);
    }

    static FileTime ft(long s) {
        return FileTime.from(Instant.ofEpochSecond(s));
    }
}
