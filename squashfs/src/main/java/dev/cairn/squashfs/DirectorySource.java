package dev.cairn.squashfs;

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
 * and the writer's time option). Extended attributes: the JDK reads only the {@code user.}
 * namespace from a live file system, and only on regular files and directories (it must open
 * the file); {@code security.} and {@code trusted.} attributes are
 * taken from tarballs (PAX) or added through the writer API.
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
    private final Map<List<Object>, String> links = new HashMap<>();
    private long entries;

    private DirectorySource(SquashfsWriter writer, SourceFilter filter, Set<Path> skip) {
        this.writer = writer;
        this.filter = filter;
        this.excluded = filter.matcher();
        this.skip = skip;
    }

    /**
     * Adds everything below {@code dir} (the directory itself becomes the image root).
     *
     * @param skip absolute, normalised paths never to add (e.g. the image being written inside the source)
     * @return entries added
     */
    public static long add(Path dir, SquashfsWriter writer, SourceFilter filter, Set<Path> skip) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a directory");
        }
        DirectorySource s = new DirectorySource(writer, filter, skip);
        s.writer.addDirectory("", s.metadata(dir, true));
        s.walk(dir, "");
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
            Map<String, Object> a = Files.readAttributes(child, "unix:mode,ino,dev,nlink,size", LinkOption.NOFOLLOW_LINKS);
            int type = (Integer) a.get("mode") & S_IFMT;
            if (type == S_IFDIR) {
                total += sizeOf(child, path);
            } else if (type == S_IFREG && ((Integer) a.get("nlink") <= 1 || links.putIfAbsent(List.of(a.get("dev"), a.get("ino")), path) == null)) {
                total += (Long) a.get("size");
            }
        }
        return total;
    }

    private void walk(Path dir, String rel) throws IOException {
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
            Map<String, Object> a = Files.readAttributes(child, "unix:mode,ino,dev,nlink,rdev", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int type = mode & S_IFMT;
            if (type != S_IFDIR && (Integer) a.get("nlink") > 1) {
                List<Object> key = List.of(a.get("dev"), a.get("ino"));
                String first = links.get(key);
                if (first != null) {
                    writer.addHardLink(path, first);
                    entries++;
                    continue;
                }
                links.put(key, path);
            }
            // The JDK opens a file to list its xattrs: never do that to a fifo or a device.
            EntryMetadata meta = metadata(child, type == S_IFREG || type == S_IFDIR);
            switch (type) {
                case S_IFDIR -> {
                    writer.addDirectory(path, meta);
                    walk(child, path);
                }
                case S_IFREG -> {
                    try (InputStream in = Files.newInputStream(child)) {
                        writer.addFile(path, meta, in);
                    }
                }
                case S_IFLNK -> writer.addSymlink(path, meta, Files.readSymbolicLink(child).toString());
                case S_IFBLK, S_IFCHR -> {
                    long rdev = (Long) a.get("rdev");
                    writer.addDevice(path, meta, type == S_IFBLK ? 'b' : 'c', major(rdev), minor(rdev));
                }
                case S_IFIFO -> writer.addFifo(path, meta);
                case S_IFSOCK -> writer.addSocket(path, meta);
                default -> throw new IOException(child + ": unknown file type " + Integer.toOctalString(type));
            }
            entries++;
        }
    }

    private EntryMetadata metadata(Path p, boolean withXattrs) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        long mtime = ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toMillis();
        EntryMetadata m = new EntryMetadata((Integer) a.get("mode") & 07777, Integer.toUnsignedLong((Integer) a.get("uid")),
                Integer.toUnsignedLong((Integer) a.get("gid")), Math.floorDiv(mtime, 1000), withXattrs ? userXattrs(p) : null);
        return filter.apply(m);
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
