package dev.cairn.squashfs;

import dev.cairn.io.NativeFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Consumer;

/**
 * Extracts an image into a new (or empty) directory without ever writing outside it: the
 * reader has already refused names with {@code /}, {@code .}, {@code ..} or NUL; every
 * directory on the way down was created by the extractor itself (never an image symlink), and
 * symlinks are created as links, never followed. Ownership and device nodes need root; without it
 * owners stay the caller's and devices are skipped with a warning. Extended attributes of every
 * namespace are set with {@code lsetxattr} ({@link NativeFiles}), symlinks included, never
 * following one, after the owner (a chown clears {@code security.capability}); those the kernel
 * refuses ({@code trusted.} and {@code security.} need root) are counted and reported once per
 * namespace at the end. Where JNA cannot load, only {@code user.} attributes of files and
 * directories are set (the JDK's view), and the rest is reported as skipped.
 */
public final class Extractor {
    private final SquashfsImage image;
    private final Path target;
    private final boolean root;
    private final Consumer<String> warn;
    private final Map<Long, Path> byInode = new HashMap<>();
    private final Deque<Runnable> finishDirs = new ArrayDeque<>();
    private long entries;
    private long skipped;
    private final boolean nativeXattrs = nativeXattrs();
    /** namespace → {entries, attributes, reasons} of attributes that could not be set. */
    private final Map<String, long[]> xattrsSkipped = new java.util.TreeMap<>();
    private final Map<String, java.util.TreeSet<String>> xattrsSkippedWhy = new java.util.TreeMap<>();
    private final Map<String, java.util.TreeSet<String>> xattrsSkippedNames = new java.util.TreeMap<>();

    private static boolean nativeXattrs() {
        try {
            return NativeFiles.unavailable() == null;
        } catch (LinkageError e) {
            return false;
        }
    }

    private Extractor(SquashfsImage image, Path target, boolean root, Consumer<String> warn) {
        this.image = image;
        this.target = target;
        this.root = root;
        this.warn = warn;
    }

    /**
     * Extracts {@code paths} (all when empty) from {@code image} into {@code target}, which must
     * not exist or be an empty directory. When extraction fails (a corrupt block, a full disk) or
     * the JVM exits first, what was extracted is removed again, and so is {@code target} when it
     * was created here.
     *
     * @param asRoot restore owners and create device nodes (the caller runs as root)
     * @return entries extracted
     */
    public static long extract(SquashfsImage image, Path target, List<String> paths, boolean asRoot, Consumer<String> warn)
            throws IOException {
        boolean existed = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
        if (existed) {
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(target.toString(), null, "exists and is not a directory");
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(target)) {
                if (ds.iterator().hasNext()) {
                    throw new FileAlreadyExistsException(target.toString(), null, "directory is not empty");
                }
            }
        } else {
            Files.createDirectories(target);
        }
        // until it is complete, a failure or Ctrl-C removes what was extracted (and TARGET if it was made here)
        Path real = target.toRealPath();
        INCOMPLETE.put(real, existed);
        boolean complete = false;
        try {
            long n = extractInto(image, real, paths, asRoot, warn);
            complete = true;
            return n;
        } finally {
            INCOMPLETE.remove(real);
            if (!complete) {
                dev.cairn.io.FileTrees.removeQuietly(real, existed);
            }
        }
    }

    /** Trees being extracted, each with whether its top directory existed before (and stays). */
    private static final Map<Path, Boolean> INCOMPLETE = new java.util.concurrent.ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> INCOMPLETE.forEach(dev.cairn.io.FileTrees::removeQuietly),
                "cairn-extract-cleanup"));
    }

    private static long extractInto(SquashfsImage image, Path target, List<String> paths, boolean asRoot, Consumer<String> warn)
            throws IOException {
        Extractor x = new Extractor(image, target, asRoot, warn);
        List<SquashfsEntry> starts = new ArrayList<>();
        if (paths.isEmpty()) {
            starts.add(image.root());
        } else {
            for (String p : paths) {
                starts.add(image.lookup(p));
            }
        }
        for (SquashfsEntry s : starts) {
            x.parents(s.path());
            image.walk(s, x::one);
        }
        while (!x.finishDirs.isEmpty()) {
            x.finishDirs.pop().run();
        }
        x.xattrsSkipped.forEach((ns, c) -> warn.accept("could not set " + c[1] + " " + ns + " extended attribute"
                + (c[1] == 1 ? "" : "s") + " (" + String.join(", ", x.xattrsSkippedNames.get(ns))
                + (x.xattrsSkippedNames.get(ns).size() == 8 ? ", ..." : "") + ") of " + c[0] + (c[0] == 1 ? " entry" : " entries")
                + ": " + String.join("; ", x.xattrsSkippedWhy.get(ns))));
        if (x.skipped > 0) {
            warn.accept(x.skipped + " entries or attributes skipped");
        }
        return x.entries;
    }

    /** Creates the (plain) parent directories of a selected path. */
    private void parents(String path) throws IOException {
        int i = path.lastIndexOf('/');
        if (i > 0) {
            Path p = resolve(path.substring(0, i));
            Files.createDirectories(p);
        }
    }

    private Path resolve(String path) throws IOException {
        Path p = path.isEmpty() ? target : target.resolve(path).normalize();
        if (!p.startsWith(target)) {
            throw new dev.cairn.io.FormatException("path", path, "entry would land outside the target directory");
        }
        return p;
    }

    private void one(SquashfsEntry e) throws IOException {
        Path p = resolve(e.path());
        Path parent = p.getParent();
        if (!p.equals(target) && Files.isSymbolicLink(parent)) {
            throw new dev.cairn.io.FormatException("path", e.path(), "parent is a symlink");
        }
        boolean linked = e.type() != SquashfsEntry.Type.DIRECTORY && e.nlink() > 1;
        if (linked) {
            Path first = byInode.get(e.inodeNumber());
            if (first != null) {
                Files.createLink(p, first);
                entries++;
                return;
            }
        }
        switch (e.type()) {
            case DIRECTORY -> {
                if (!p.equals(target)) {
                    Files.createDirectory(p);
                }
                Files.setAttribute(p, "unix:mode", 0700, LinkOption.NOFOLLOW_LINKS);
                finishDirs.push(() -> {
                    try {
                        attributes(e, p);
                    } catch (IOException ex) {
                        throw new java.io.UncheckedIOException(ex);
                    }
                });
                entries++;
                return;
            }
            case FILE -> {
                try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(p, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                    image.copyTo(e, out);
                }
            }
            case SYMLINK -> Files.createSymbolicLink(p, Path.of(e.target()));
            case BLOCK_DEVICE, CHAR_DEVICE, FIFO, SOCKET -> {
                if (!special(e, p)) {
                    return;
                }
            }
        }
        if (linked) {
            // only once created: later names of a skipped device are skipped too, not linked to nothing
            byInode.put(e.inodeNumber(), p);
        }
        attributes(e, p);
        entries++;
    }

    private boolean special(SquashfsEntry e, Path p) throws IOException {
        List<String> cmd;
        switch (e.type()) {
            case BLOCK_DEVICE, CHAR_DEVICE -> {
                if (!root) {
                    warn.accept("skipped device " + e.path() + " (needs root)");
                    skipped++;
                    return false;
                }
                cmd = List.of("mknod", p.toString(), e.type() == SquashfsEntry.Type.BLOCK_DEVICE ? "b" : "c",
                        Integer.toString(e.major()), Integer.toString(e.minor()));
            }
            case FIFO -> cmd = List.of("mkfifo", p.toString());
            default -> {
                try (java.nio.channels.ServerSocketChannel ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                    ch.bind(java.net.UnixDomainSocketAddress.of(p));
                    return true;
                } catch (IOException | RuntimeException ex) {
                    warn.accept("skipped socket " + e.path() + " (" + ex.getMessage() + ")");
                    skipped++;
                    return false;
                }
            }
        }
        exec(cmd);
        return true;
    }

    private static void exec(List<String> cmd) throws IOException {
        try {
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            if (proc.waitFor() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted running " + cmd.get(0));
        }
    }

    /** Sets the entry's extended attributes (after its owner: a chown clears security.capability). */
    private void xattrs(SquashfsEntry e, Path p, boolean plain) throws IOException {
        SortedMap<String, byte[]> xattrs = image.xattrs(e);
        if (xattrs.isEmpty()) {
            return;
        }
        java.util.Set<String> counted = new java.util.HashSet<>();
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
            String name = x.getKey();
            String why;
            if (nativeXattrs) {
                try {
                    NativeFiles.setXattr(p, name, x.getValue());
                    continue;
                } catch (java.nio.file.FileSystemException ex) {
                    // refused (EPERM without privilege, ENOTSUP on this file system, ...): counted, not fatal
                    String reason = ex.getReason() == null ? ex.toString() : ex.getReason();
                    why = reason.substring(reason.indexOf(": ") + 2) + (root || name.startsWith("user.") ? "" : ", needs root");
                }
            } else if (plain && name.startsWith("user.")) {
                UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
                v.write(name.substring(5), ByteBuffer.wrap(x.getValue()));
                continue;
            } else {
                why = "the JDK can set only user. attributes of files and directories: JNA did not load";
            }
            String ns = XattrSelection.namespace(name);
            long[] c = xattrsSkipped.computeIfAbsent(ns, k -> new long[2]);
            if (counted.add(ns)) {
                c[0]++;
            }
            c[1]++;
            java.util.TreeSet<String> names = xattrsSkippedNames.computeIfAbsent(ns, k -> new java.util.TreeSet<>());
            if (names.size() < 8) {
                names.add(name);
            }
            xattrsSkippedWhy.computeIfAbsent(ns, k -> new java.util.TreeSet<>()).add(why);
        }
    }

    private void attributes(SquashfsEntry e, Path p) throws IOException {
        boolean link = e.type() == SquashfsEntry.Type.SYMLINK;
        boolean plain = e.type() == SquashfsEntry.Type.FILE || e.type() == SquashfsEntry.Type.DIRECTORY;
        if (!plain) {
            // the JDK opens a file to change it: a fifo would block, a device could react
            if (root) {
                exec(List.of("chown", "-h", e.uid() + ":" + e.gid(), p.toString()));
            }
            xattrs(e, p, false);
            if (!link) {
                exec(List.of("chmod", Integer.toOctalString(e.mode()), p.toString()));
            }
            exec(List.of("touch", "-h", "-m", "-d", "@" + e.mtime(), p.toString()));
            return;
        }
        if (root) {
            Files.setAttribute(p, "unix:uid", Math.toIntExact(e.uid() > Integer.MAX_VALUE ? e.uid() - (1L << 32) : e.uid()),
                    LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", Math.toIntExact(e.gid() > Integer.MAX_VALUE ? e.gid() - (1L << 32) : e.gid()),
                    LinkOption.NOFOLLOW_LINKS);
        }
        xattrs(e, p, true);
        Files.setAttribute(p, "unix:mode", e.mode(), LinkOption.NOFOLLOW_LINKS);
        FileTime t = FileTime.fromMillis(e.mtime() * 1000);
        Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, null, null);
    }
}
