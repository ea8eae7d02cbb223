package dev.cairn.squashfs;

import dev.cairn.io.NativeFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Adds a directory tree to a {@link SquashfsWriter}, the way mksquashfs reads its source.
 *
 * <p>Children are visited in unsigned UTF-8 byte order of their names, so the host's directory
 * order never shows. Hard links are detected by (device, inode) and stored as one inode.
 * Ownership, permissions and times come from the host (rewritten by the {@link SourceFilter}
 * and the writer's time option).
 *
 * <p>Extended attributes are read as mksquashfs reads them ({@code llistxattr}/{@code lgetxattr}
 * through {@link NativeFiles}): every namespace, on every kind of entry, never following a
 * symlink; {@code trusted.} ones only when the process may see them (CAP_SYS_ADMIN, as root). The
 * {@link SourceFilter}'s regexes pick which to keep. Those SquashFS cannot store (the {@code
 * system.} namespace: POSIX ACLs) and those that could not be read are left out with one warning
 * per namespace ({@link SquashfsWriter#warning}). Where JNA cannot load, the JDK's view is the
 * fallback, with a warning: it reads only {@code user.} attributes, and only of regular files and
 * directories (it opens the file).
 *
 * <p>The tree is listed and stat'ed on a thread of its own (a few hundred bytes per entry) while
 * the first files are read; once it is done, the writer knows the sizes of the files to come
 * ({@link SquashfsWriter#planFileSizes}), and duplicate detection digests only files that share
 * their size with another. The image does not depend on when that happens.
 *
 * <p>A regular file's allocated size ({@code statx}) tells the writer whether the source file is
 * sparse, which mksquashfs records in the inode (see {@link SquashfsWriter#addFile(String,
 * EntryMetadata, InputStream, long)}).
 */
public final class DirectorySource {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 060000;
    private static final int S_IFDIR = 040000;
    private static final int S_IFCHR = 020000;
    private static final int S_IFIFO = 010000;

    private final SquashfsWriter writer;
    private final SourceFilter filter;
    private final SourceFilter.Matcher excluded;
    private final Set<Path> skip;
    private final Map<List<Long>, String> links = new HashMap<>();
    private final XattrSelection xattrs;
    /** Read xattrs at all (the writer keeps them), and through JNA (else the JDK's user view). */
    private final boolean readXattrs;
    private final boolean nativeXattrs;
    private final boolean statx;
    private long entries;

    private DirectorySource(SquashfsWriter writer, SourceFilter filter, Set<Path> skip) {
        this.writer = writer;
        this.filter = filter;
        this.excluded = filter.matcher();
        this.skip = skip;
        this.xattrs = filter.xattrSelection();
        this.readXattrs = writer != null && writer.keepsXattrs();
        String xattrProblem = readXattrs ? problem(true) : "not needed";
        this.nativeXattrs = xattrProblem == null;
        this.statx = writer != null && problem(false) == null;  // (loads JNA: the writer needs it for parity)
        if (readXattrs && xattrProblem != null) {
            writer.warning("cannot call llistxattr/lgetxattr through JNA (" + xattrProblem + "): only the user. extended"
                    + " attributes of regular files and directories are read (what the JDK can); trusted. and security."
                    + " attributes, and those of symlinks and special files, are left out");
        }
    }

    /** Why the native calls cannot be used (null when they can), whatever keeps JNA from loading. */
    private static String problem(boolean xattrCalls) {
        try {
            return xattrCalls ? NativeFiles.unavailable() : NativeFiles.statxUnavailable();
        } catch (LinkageError e) {
            return e.toString();
        }
    }

    /**
     * Adds everything below {@code dir} (the directory itself becomes the image root).
     *
     * @param skip absolute, normalised paths never to add (e.g. the image being written inside the source)
     * @return entries added
     */
    public static long add(Path dir, SquashfsWriter writer, SourceFilter filter, Set<Path> skip) throws IOException {
        return add(dir, writer, filter, skip, false);
    }

    /** {@link #add(Path, SquashfsWriter, SourceFilter, Set)}; with {@code listFirst} nothing is added before the listing is done (tests). */
    static long add(Path dir, SquashfsWriter writer, SourceFilter filter, Set<Path> skip, boolean listFirst) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a directory");
        }
        DirectorySource s = new DirectorySource(writer, filter, skip);
        NativeFiles.Stat top = s.lstat(dir);
        // The tree is listed and stat'ed on a thread of its own: once it is done, the writer learns
        // the sizes of the files it will read. Meanwhile the first files are added (and digested).
        Lister lister = s.new Lister(dir);
        Thread t = new Thread(lister, "cairn-list");
        t.setDaemon(true);
        t.start();
        try {
            if (listFirst) {
                try {
                    t.join();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while listing " + dir);
                }
            }
            s.writer.addDirectory("", s.metadata(dir, top));
            boolean planned = false;
            for (Entry e = lister.next(); e != null; e = lister.next()) {
                if (!planned && lister.plan != null) {
                    writer.planFileSizes(lister.plan);
                    planned = true;
                }
                s.add(e);
            }
        } finally {
            lister.stopped = true;
        }
        for (String w : s.xattrs.warnings()) {
            writer.warning(w);
        }
        return s.entries;
    }

    /**
     * The bytes of file content {@link #add} would read from {@code dir} with the same filter and
     * skip set (each hard-linked file once), from metadata alone: the total of a progress display.
     */
    public static long contentBytes(Path dir, SourceFilter filter, Set<Path> skip) throws IOException {
        DirectorySource s = new DirectorySource(null, filter, skip);
        return s.sizeOf(dir, "");
    }

    private long sizeOf(Path dir, String rel) throws IOException {
        long total = 0;
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        }
        for (Path child : children) {
            String name = child.getFileName().toString();
            String path = rel.isEmpty() ? name : rel + "/" + name;
            if (excluded.excluded(path) || skip.contains(child.toAbsolutePath().normalize())) {
                continue;
            }
            NativeFiles.Stat a = lstat(child);
            int type = a.mode() & S_IFMT;
            if (type == S_IFDIR) {
                total += sizeOf(child, path);
            } else if (type == S_IFREG && (a.nlink() <= 1 || links.putIfAbsent(identity(a), path) == null)) {
                total += a.size();
            }
        }
        return total;
    }

    /** An entry below the source directory, as listed: its host path, image path and lstat. */
    private record Entry(Path file, String path, NativeFiles.Stat stat) {
    }

    /** A failure of the listing thread, handed to the adding one. */
    private record Failure(Throwable cause) {
    }

    private static final Object END = new Object();

    /**
     * Lists the tree into a queue the adding thread takes from (entries, then {@link #END} or a
     * {@link Failure}), and when done publishes the sizes of the regular files {@link #add(Entry)}
     * will read, each hard-linked file once.
     */
    private final class Lister implements Runnable {
        private final Path dir;
        private final java.util.concurrent.BlockingQueue<Object> queue = new java.util.concurrent.LinkedBlockingQueue<>();
        private final java.util.HashSet<List<Long>> linked = new java.util.HashSet<>();
        private long[] sizes = new long[1024];
        private int files;
        volatile long[] plan;
        volatile boolean stopped;

        Lister(Path dir) {
            this.dir = dir;
        }

        @Override
        public void run() {
            try {
                list(dir, "", this);
                plan = Arrays.copyOf(sizes, files);
                queue.add(END);
            } catch (Throwable t) {
                queue.add(new Failure(t));
            }
        }

        /** Called for each entry in order: queues it, and counts a regular file's size. */
        void accept(Entry e) {
            NativeFiles.Stat a = e.stat();
            if ((a.mode() & S_IFMT) == S_IFREG && (a.nlink() <= 1 || linked.add(identity(a)))) {
                if (files == sizes.length) {
                    sizes = Arrays.copyOf(sizes, files * 2);
                }
                sizes[files++] = a.size();
            }
            queue.add(e);
        }

        /** The next entry, or null after the last one. */
        Entry next() throws IOException {
            Object o;
            try {
                o = queue.take();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while listing " + dir);
            }
            if (o == END) {
                return null;
            }
            if (o instanceof Failure f) {
                throw dev.cairn.io.Futures.unwrap(f.cause());
            }
            return (Entry) o;
        }
    }

    /** Hands the entries below {@code dir} to {@code out} in the order they are added: pre-order, names by unsigned bytes. */
    private void list(Path dir, String rel, Lister out) throws IOException {
        if (out.stopped) {
            throw new java.util.concurrent.CancellationException("the adding thread stopped");
        }
        List<Map.Entry<byte[], Path>> sorted = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                sorted.add(Map.entry(p.getFileName().toString().getBytes(StandardCharsets.UTF_8), p));
            }
        }
        sorted.sort((a, b) -> Arrays.compareUnsigned(a.getKey(), b.getKey()));
        for (Map.Entry<byte[], Path> e : sorted) {
            Path child = e.getValue();
            String name = child.getFileName().toString();
            String path = rel.isEmpty() ? name : rel + "/" + name;
            if (excluded.excluded(path) || skip.contains(child.toAbsolutePath().normalize())) {
                continue;
            }
            NativeFiles.Stat a = lstat(child);
            out.accept(new Entry(child, path, a));
            if ((a.mode() & S_IFMT) == S_IFDIR) {
                list(child, path, out);
            }
        }
    }

    private void add(Entry e) throws IOException {
        Path child = e.file();
        String path = e.path();
        NativeFiles.Stat a = e.stat();
        int type = a.mode() & S_IFMT;
        if (type != S_IFDIR && a.nlink() > 1) {
            List<Long> key = identity(a);
            String first = links.get(key);
            if (first != null) {
                writer.addHardLink(path, first);
                entries++;
                return;
            }
            links.put(key, path);
        }
        EntryMetadata meta = metadata(child, a);
        switch (type) {
            case S_IFDIR -> writer.addDirectory(path, meta);
            case S_IFREG -> {
                long size = a.size();
                long allocated = size > 0 ? a.allocated() : -1;
                try (InputStream in = Files.newInputStream(child)) {
                    writer.addFile(path, meta, in, allocated, size);
                }
            }
            case S_IFLNK -> writer.addSymlink(path, meta, Files.readSymbolicLink(child).toString());
            case S_IFBLK, S_IFCHR -> writer.addDevice(path, meta, type == S_IFBLK ? 'b' : 'c', a.rdevMajor(), a.rdevMinor());
            case S_IFIFO -> writer.addFifo(path, meta);
            case S_IFSOCK -> writer.addSocket(path, meta);
            default -> throw new IOException(child + ": unknown file type " + Integer.toOctalString(type));
        }
        entries++;
    }

    /** What {@link #add(Entry)} needs of an entry, from one lstat. */
    private static final String ATTRIBUTES = "unix:mode,ino,dev,nlink,rdev,size,uid,gid,lastModifiedTime";

    private EntryMetadata metadata(Path p, NativeFiles.Stat a) throws IOException {
        EntryMetadata m = new EntryMetadata(a.mode() & 07777, a.uid(), a.gid(), a.mtimeSeconds(), xattrs(p, a.mode() & S_IFMT));
        return filter.apply(m);
    }

    /**
     * What {@link #add(Entry)} needs of an entry, from one lstat: {@code statx} through JNA when it can (one call, which also
     * gives the allocated size), else the JDK's {@code unix:} attribute view (then the allocated size of a regular file
     * from a second statx when that call alone is available, -1 otherwise).
     */
    private NativeFiles.Stat lstat(Path p) throws IOException {
        if (statx) {
            NativeFiles.Stat st = NativeFiles.lstat(p);
            if (st != null) {
                return st;
            }
        }
        Map<String, Object> a = Files.readAttributes(p, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        long dev = (Long) a.get("dev");
        long rdev = (Long) a.get("rdev");
        long mtime = ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toMillis();
        long allocated = statx && (mode & S_IFMT) == S_IFREG ? NativeFiles.allocatedBytes(p) : -1;
        return new NativeFiles.Stat(mode, (Long) a.get("ino"), major(dev), minor(dev), (Integer) a.get("nlink"), major(rdev),
                minor(rdev), (Long) a.get("size"), Integer.toUnsignedLong((Integer) a.get("uid")),
                Integer.toUnsignedLong((Integer) a.get("gid")), Math.floorDiv(mtime, 1000), allocated);
    }

    /** (device, inode): the key hard links share. */
    private static List<Long> identity(NativeFiles.Stat a) {
        return List.of(((long) a.devMajor() << 32) | Integer.toUnsignedLong(a.devMinor()), a.ino());
    }

    private SortedMap<String, byte[]> xattrs(Path p, int type) throws IOException {
        if (!readXattrs) {
            return null;
        }
        if (nativeXattrs) {
            NativeFiles.Xattrs x = NativeFiles.readXattrs(p);
            if (!x.unreadable().isEmpty()) {
                Map<String, String> why = new TreeMap<>();
                for (NativeFiles.Unreadable u : x.unreadable()) {
                    why.put(u.name(), u.reason());
                }
                xattrs.unreadable(why);
            }
            return xattrs.select(x.values());
        }
        // The JDK opens a file to list its xattrs: never do that to a fifo or a device.
        return type == S_IFREG || type == S_IFDIR ? xattrs.select(userXattrs(p)) : null;
    }

    private static SortedMap<String, byte[]> userXattrs(Path p) throws IOException {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        if (v == null) {
            return null;
        }
        List<String> names;
        try {
            names = v.list();
        } catch (IOException | UnsupportedOperationException e) {
            return null; // file system without user xattrs
        }
        SortedMap<String, byte[]> out = new TreeMap<>();
        for (String n : names) {
            ByteBuffer b = ByteBuffer.allocate(v.size(n));
            v.read(n, b);
            out.put("user." + n, Arrays.copyOf(b.array(), b.position()));
        }
        return out;
    }

    /** Linux {@code major()} of a {@code dev_t}. */
    static int major(long rdev) {
        return (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
    }

    /** Linux {@code minor()} of a {@code dev_t}. */
    static int minor(long rdev) {
        return (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
    }
}
