package dev.cairn.uki.initrd;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adds a directory tree to an {@link InitrdWriter}: the directory becomes the archive root (it is
 * not an entry itself), everything below it an entry.
 *
 * <p>Permission bits are taken as the file system has them (umask effects included: normalise the
 * tree, not the archive); times are the writer's. Owners are 0:0 unless {@code keepOwner}.
 * Hard links (regular files with more than one link, found by device and inode) stay hard links.
 * Device nodes, fifos and sockets are stored as such; reading their attributes never opens them.
 */
public final class InitrdTree {
    private static final int S_IFMT = 0170000;

    private final InitrdWriter writer;
    private final boolean keepOwner;
    private final Set<Path> skip;
    private final Map<List<Object>, String> links = new HashMap<>();
    private long entries;

    private InitrdTree(InitrdWriter writer, boolean keepOwner, Set<Path> skip) {
        this.writer = writer;
        this.keepOwner = keepOwner;
        this.skip = skip;
    }

    /**
     * Adds everything below {@code dir}.
     *
     * @param keepOwner store the files' uid and gid instead of 0:0
     * @param skip      absolute, normalised paths never to add (e.g. the archive being written inside the tree)
     * @return entries added
     */
    public static long add(Path dir, InitrdWriter writer, boolean keepOwner, Set<Path> skip) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a directory");
        }
        InitrdTree t = new InitrdTree(writer, keepOwner, skip);
        t.walk(dir, "");
        return t.entries;
    }

    private void walk(Path dir, String rel) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                children.add(p);
            }
        }
        // The writer sorts the archive; the walk order only decides which name of a hard link is seen first.
        children.sort((a, b) -> java.util.Arrays.compareUnsigned(bytes(a), bytes(b)));
        for (Path child : children) {
            if (skip.contains(child.toAbsolutePath().normalize())) {
                continue;
            }
            String name = child.getFileName().toString();
            String path = rel.isEmpty() ? name : rel + "/" + name;
            Map<String, Object> a = Files.readAttributes(child, "unix:mode,ino,dev,nlink,rdev,uid,gid", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int type = mode & S_IFMT;
            InitrdAttributes attrs = keepOwner
                    ? new InitrdAttributes(mode & 07777, Integer.toUnsignedLong((Integer) a.get("uid")),
                            Integer.toUnsignedLong((Integer) a.get("gid")))
                    : InitrdAttributes.root(mode & 07777);
            entries++;
            if (type == InitrdWriter.S_IFREG && (Integer) a.get("nlink") > 1) {
                List<Object> key = List.of(a.get("dev"), a.get("ino"));
                String first = links.putIfAbsent(key, path);
                if (first != null) {
                    writer.addHardLink(path, first);
                    continue;
                }
            }
            switch (type) {
                case InitrdWriter.S_IFDIR -> {
                    writer.addDirectory(path, attrs);
                    walk(child, path);
                }
                case InitrdWriter.S_IFREG -> writer.addFile(path, attrs, child);
                case InitrdWriter.S_IFLNK -> writer.addSymlink(path, attrs, Files.readSymbolicLink(child).toString());
                case InitrdWriter.S_IFBLK, InitrdWriter.S_IFCHR -> {
                    long rdev = (Long) a.get("rdev");
                    writer.addDevice(path, attrs, type == InitrdWriter.S_IFBLK ? 'b' : 'c', major(rdev), minor(rdev));
                }
                case InitrdWriter.S_IFIFO -> writer.addFifo(path, attrs);
                case InitrdWriter.S_IFSOCK -> writer.addSocket(path, attrs);
                default -> throw new IOException(child + ": unknown file type 0" + Integer.toOctalString(type));
            }
        }
    }

    private static byte[] bytes(Path p) {
        return p.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
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
