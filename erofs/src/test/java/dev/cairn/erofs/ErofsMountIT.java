package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * The Linux kernel as oracle: each image of the corpus, written by cairn, is loop-mounted
 * ({@code mount -t erofs -o loop,ro}) and the tree it shows must be the tar's, read independently
 * with Commons Compress and the aufs rules containerd relies on ({@code .wh.NAME} = character device
 * 0:0 with mode 0, {@code .wh..wh..opq} = {@code trusted.overlay.opaque=y} on the directory, a
 * directory holding whiteouts carries an empty {@code trusted.overlay.origin}): names, types, modes,
 * owners, mtimes, sizes, SHA-256 of contents, symlink targets, device numbers, link counts and
 * xattrs (getfattr). Needs root and a kernel that mounts: skipped locally otherwise, a failure under
 * {@code CI=true}.
 */
class ErofsMountIT {
    static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    ToolOracle mount;
    ToolOracle umount;
    ToolOracle getfattr;

    @BeforeEach
    void needRootAndMount() throws IOException {
        mount = ToolOracle.require("mount", "mount");
        umount = ToolOracle.require("umount", "mount");
        getfattr = ToolOracle.require("getfattr", "attr");
        String uid = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .map(l -> l.split("\\s+")[2]).findFirst().orElse("?");
        if (!uid.equals("0")) {
            unavailable("the EROFS mount test needs root (effective uid " + uid + ")");
        }
        if (Files.readAllLines(Path.of("/proc/filesystems")).stream().noneMatch(l -> l.endsWith("\terofs"))) {
            // not listed until the module is loaded: a first mount attempt loads it
            ToolOracle.Result r = ToolOracle.require("modprobe", "kmod").run(TIMEOUT, "erofs");
            if (r.exitCode() != 0) {
                unavailable("the kernel has no erofs file system: " + r.stderr().strip());
            }
        }
    }

    private static void unavailable(String msg) {
        if (ToolOracle.isCi()) {
            throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(msg);
    }

    @TestFactory
    Stream<DynamicTest> theKernelShowsTheTarsTree() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : TarCorpus.all().entrySet()) {
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> mountAndCompare(e.getKey(), e.getValue())));
        }
        // names of at most 40 bytes keep paths under PATH_MAX, which getfattr needs (the kernel does not)
        for (long seed = 0; seed < 4; seed++) {
            long s = seed;
            tests.add(DynamicTest.dynamicTest("random-" + s, () -> mountAndCompare("random-" + s, TarCorpus.randomLayer(s, 40))));
        }
        return tests.stream();
    }

    /**
     * containerd's tar-index layer file (512-byte-block index ‖ raw tar): the kernel follows the
     * device slot's mapped_blkaddr into the same file, so the loop-mounted file shows the tar's tree.
     */
    @TestFactory
    Stream<DynamicTest> theKernelShowsTheTarsTreeThroughATarIndexLayer() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : TarCorpus.all().entrySet()) {
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> mountAndCompare(e.getKey(), e.getValue(), true)));
        }
        for (long seed = 0; seed < 4; seed++) {
            long s = seed;
            tests.add(DynamicTest.dynamicTest("random-" + s,
                    () -> mountAndCompare("random-" + s, TarCorpus.randomLayer(s, 40), true)));
        }
        return tests.stream();
    }

    private void mountAndCompare(String name, byte[] tar) throws IOException {
        mountAndCompare(name, tar, false);
    }

    private void mountAndCompare(String name, byte[] tar, boolean tarIndex) throws IOException {
        Path image = dir.resolve(name + (tarIndex ? ".layer" : ".erofs"));
        if (tarIndex) {
            ErofsTarWriter.writeTarIndexLayer(new ByteArrayInputStream(tar), image,
                    ErofsOptions.containerdTarIndex("sha256:" + "00".repeat(32)));
        } else {
            ErofsTarWriter.write(new ByteArrayInputStream(tar), image,
                    ErofsOptions.containerd("sha256:" + "00".repeat(32)));
        }
        Map<String, Expected> expected = expectedTree(tar);
        Path at = Files.createDirectories(dir.resolve(name + ".mnt"));
        mount.run(TIMEOUT, "-t", "erofs", "-o", "loop,ro", image.toString(), at.toString()).assertExit(0);
        try {
            Map<String, String> actual = new TreeMap<>();
            Map<String, String> want = new TreeMap<>();
            Map<String, Map<String, String>> xattrs = xattrs(at);
            try (Stream<Path> walk = Files.walk(at)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    String rel = at.relativize(p).toString();
                    actual.put(rel, describe(p, xattrs.getOrDefault(rel.isEmpty() ? "." : "./" + rel, Map.of()),
                            expected.get(rel)));
                }
            }
            for (Map.Entry<String, Expected> e : expected.entrySet()) {
                want.put(e.getKey(), e.getValue().toString());
            }
            List<String> diffs = new ArrayList<>();
            for (String k : new TreeSet<>(union(actual.keySet(), want.keySet()))) {
                if (!java.util.Objects.equals(actual.get(k), want.get(k))) {
                    diffs.add("/" + k + "\n  tar:    " + want.get(k) + "\n  kernel: " + actual.get(k));
                }
            }
            assertThat(diffs).as(name + ": paths whose kernel view differs from the tar").isEmpty();
        } finally {
            ToolOracle.Result r = umount.run(TIMEOUT, at.toString());
            if (r.exitCode() != 0) {
                umount.run(TIMEOUT, "-l", at.toString());
            }
        }
    }

    /** What a path should look like; {@code implicit} directories were never in the tar (only the type is checked). */
    static final class Expected {
        String type;
        int perm;
        long uid;
        long gid;
        long mtime;
        long nsec;
        long size;
        String sha256 = "";
        String link = "";
        long rdev;
        long nlink = 1;
        boolean implicit;
        final Map<String, String> xattrs = new TreeMap<>();

        Expected copy() {
            Expected e = new Expected();
            e.type = type;
            e.perm = perm;
            e.uid = uid;
            e.gid = gid;
            e.mtime = mtime;
            e.nsec = nsec;
            e.size = size;
            e.sha256 = sha256;
            e.link = link;
            e.rdev = rdev;
            e.xattrs.putAll(xattrs);
            return e;
        }

        @Override
        public String toString() {
            if (implicit) {
                return "dir (implicit) xattrs=" + xattrs;
            }
            if (type.equals("dir")) {
                return String.format("dir %04o %d:%d mtime=%d.%09d xattrs=%s", perm, uid, gid, mtime, nsec, xattrs);
            }
            return String.format("%s %04o %d:%d mtime=%d.%09d size=%d sha256=%s link=%s rdev=%x nlink=%d xattrs=%s",
                    type, perm, uid, gid, mtime, nsec, size, sha256, link, rdev, nlink, xattrs);
        }
    }

    private static String describe(Path p, Map<String, String> xattrs, Expected hint) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        int fmt = mode & 0170000;
        String type = switch (fmt) {
            case 0100000 -> "file";
            case 0040000 -> "dir";
            case 0120000 -> "symlink";
            case 0020000 -> "chr";
            case 0060000 -> "blk";
            case 0010000 -> "fifo";
            default -> "other";
        };
        Expected e = new Expected();
        e.type = type;
        e.xattrs.putAll(xattrs);
        if (type.equals("dir") && hint != null && hint.implicit) {
            e.implicit = true;
            return e.toString();
        }
        e.perm = mode & 07777;
        e.uid = (Integer) a.get("uid");
        e.gid = (Integer) a.get("gid");
        java.time.Instant t = ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toInstant();
        e.mtime = t.getEpochSecond();
        e.nsec = t.getNano();
        if (type.equals("file")) {
            byte[] data = Files.readAllBytes(p);
            e.size = data.length;
            e.sha256 = sha256(data);
            e.nlink = (Integer) a.get("nlink");
        } else if (type.equals("symlink")) {
            e.link = Files.readSymbolicLink(p).toString();
            e.size = (Long) a.get("size");
        } else if (type.equals("chr") || type.equals("blk")) {
            e.rdev = (Long) a.get("rdev");
        }
        return e.toString();
    }

    /** getfattr -R -P -d -m - -e hex . from the mount point: path ("./x") to name to hex value. */
    private Map<String, Map<String, String>> xattrs(Path root) {
        ToolOracle.Result r = getfattr.run(TIMEOUT, root, List.of("-R", "-P", "-d", "-m", "-", "-e", "hex", "."), null);
        Map<String, Map<String, String>> m = new TreeMap<>();
        String file = null;
        for (String line : r.stdout().split("\n")) {
            if (line.startsWith("# file: ")) {
                file = line.substring("# file: ".length());
                file = file.equals(".") ? "." : "./" + (file.startsWith("./") ? file.substring(2) : file);
                m.put(file, new TreeMap<>());
            } else if (file != null && line.contains("=")) {
                int eq = line.indexOf('=');
                m.get(file).put(line.substring(0, eq), line.substring(eq + 1));
            } else if (file != null && !line.isBlank()) {
                m.get(file).put(line.strip(), "");
            }
        }
        // getfattr -P still tries to follow symlinks (dangling or over-long targets) and exits 1: errors about
        // symlinks are not xattr errors, any other is
        assertThat(r.stderr().lines().filter(l -> !aboutSymlink(root, l))).as("getfattr errors").isEmpty();
        return m;
    }

    private static boolean aboutSymlink(Path root, String line) {
        String prefix = "getfattr: ./";
        int end = line.lastIndexOf(": ");
        if (!line.startsWith(prefix) || end <= prefix.length()) {
            return false;
        }
        return Files.isSymbolicLink(root.resolve(line.substring(prefix.length(), end)));
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        return "0x" + HexFormat.of().formatHex(b);
    }

    static String parent(String p) {
        int i = p.lastIndexOf('/');
        return i < 0 ? "" : p.substring(0, i);
    }

    static String base(String p) {
        return p.substring(p.lastIndexOf('/') + 1);
    }

    /** The tree a tar layer describes, by the rules containerd's erofs conversion implements. */
    static Map<String, Expected> expectedTree(byte[] tar) throws IOException {
        Map<String, Expected> m = new TreeMap<>();
        Expected root = new Expected();
        root.type = "dir";
        root.perm = 0777;
        m.put("", root);
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry te;
            while ((te = in.getNextEntry()) != null) {
                String p = te.getName();
                while (p.startsWith("./")) {
                    p = p.substring(2);
                }
                while (p.endsWith("/")) {
                    p = p.substring(0, p.length() - 1);
                }
                if (p.equals(".")) {
                    p = "";
                }
                String par = parent(p);
                String b = base(p);
                implicitDirs(m, par);
                if (b.equals(".wh..wh..opq")) {
                    m.get(par).xattrs.put("trusted.overlay.opaque", hex("y".getBytes(StandardCharsets.US_ASCII)));
                    continue;
                }
                boolean whiteout = b.startsWith(".wh.");
                String path = whiteout ? (par.isEmpty() ? "" : par + "/") + b.substring(4) : p;
                Expected old = m.get(path);
                if (old != null && !(old.type.equals("dir") && te.isDirectory() && !whiteout)) {
                    m.keySet().removeIf(k -> k.startsWith(path + "/"));
                    m.remove(path);
                }
                if (te.isLink()) {
                    Expected target = m.get(te.getLinkName());
                    assertThat(target).as("hard link target " + te.getLinkName()).isNotNull();
                    Expected e = target;
                    e.nlink++;
                    m.put(path, e);
                    continue;
                }
                Expected e = old != null && old.type.equals("dir") && te.isDirectory() && !whiteout ? old : new Expected();
                e.implicit = false;
                e.uid = te.getLongUserId();
                e.gid = te.getLongGroupId();
                java.time.Instant t = te.getLastModifiedTime().toInstant();
                e.mtime = t.getEpochSecond();
                e.nsec = erofsUtils18Nanos(t.getNano());
                if (whiteout) {
                    e.type = "chr";
                    e.perm = 0;
                    e.rdev = 0;
                    m.get(par).xattrs.put("trusted.overlay.origin", "0x");
                } else if (te.isDirectory()) {
                    e.type = "dir";
                    e.perm = te.getMode() & 07777;
                } else if (te.isSymbolicLink()) {
                    e.type = "symlink";
                    e.perm = te.getMode() & 07777;
                    e.link = te.getLinkName();
                    e.size = te.getLinkName().getBytes(StandardCharsets.UTF_8).length;
                } else if (te.isCharacterDevice() || te.isBlockDevice()) {
                    e.type = te.isCharacterDevice() ? "chr" : "blk";
                    e.perm = te.getMode() & 07777;
                    long major = te.getDevMajor();
                    long minor = te.getDevMinor();
                    e.rdev = ((major & 0xFFF) << 8) | ((major & ~0xFFFL) << 32) | (minor & 0xFF) | ((minor & ~0xFFL) << 12);
                } else if (te.isFIFO()) {
                    e.type = "fifo";
                    e.perm = te.getMode() & 07777;
                } else {
                    e.type = "file";
                    e.perm = te.getMode() & 07777;
                    byte[] data = in.readAllBytes();
                    e.size = data.length;
                    e.sha256 = sha256(data);
                }
                for (Map.Entry<String, String> x : te.getExtraPaxHeaders().entrySet()) {
                    if (x.getKey().startsWith("SCHILY.xattr.")) {
                        e.xattrs.put(x.getKey().substring("SCHILY.xattr.".length()),
                                hex(x.getValue().getBytes(StandardCharsets.UTF_8)));
                    }
                }
                m.put(path, e);
            }
        }
        return m;
    }

    /**
     * The nanoseconds erofs-utils 1.8 stores for a PAX mtime: it reads the fraction's digits as a plain
     * integer ("%d"; fixed after 1.8.6 by erofs-utils commit 3166f1d), and Commons Compress writes the
     * fraction without trailing zeros, so .1234567 (123456700 ns) is stored as 1234567 ns. The kernel
     * shows what the image holds; cairn matches erofs-utils 1.8 byte for byte.
     */
    static long erofsUtils18Nanos(int nanos) {
        if (nanos == 0) {
            return 0;
        }
        String digits = String.format("%09d", nanos).replaceAll("0+$", "");
        return Long.parseLong(digits);
    }

    private static void implicitDirs(Map<String, Expected> m, String dir) {
        if (dir.isEmpty() || m.containsKey(dir)) {
            return;
        }
        implicitDirs(m, parent(dir));
        Expected e = new Expected();
        e.type = "dir";
        e.implicit = true;
        m.put(dir, e);
    }

    static java.util.Set<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        java.util.Set<String> u = new TreeSet<>(a);
        u.addAll(b);
        return u;
    }
}
