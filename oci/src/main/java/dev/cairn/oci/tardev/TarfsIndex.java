package dev.cairn.oci.tardev;

import dev.cairn.io.FormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The tarfs index Kata's tardev snapshotter appends to a decompressed tar layer before it computes
 * the layer's dm-verity tree (the AKS Confidential Containers conversion, Kata 3.2.0.azl3 / 3.15):
 * an inode table of 32-byte records, 32-byte directory entries, symlink targets too long for the
 * tar header, the names, zero padding to a 4 KiB boundary and a 16-byte superblock in the last
 * 512 bytes of one more 4 KiB block.
 *
 * <p>The node computes this index itself and trusts only the root hash it gets, so cairn must
 * produce the same bytes, including the conversion's quirks: permission bits only (no
 * set-id/sticky), mode, owner and mtime from the tar header (not from PAX records), parents that
 * the tar does not list become inodes of mode 0, a hard link shares its target's inode, aufs
 * whiteouts become 0:0 character devices and opaque markers set the inode flag, and the padded
 * length is computed as the snapshotter computes it. Members the node skips (other types, device
 * nodes without device numbers, names escaping the root) are skipped here too and counted in
 * {@link Result#skipped()} so that callers can report them.
 */
public final class TarfsIndex {
    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 060000;
    static final int S_IFDIR = 040000;
    static final int S_IFCHR = 020000;
    static final int S_IFIFO = 010000;
    static final byte OPAQUE = 0x1;
    static final int INODE_SIZE = 32;
    static final int DIRENT_SIZE = 32;
    static final long ALIGNMENT = 4096;
    /** Most members a layer may have: the index is built in memory (about 100 bytes a member). */
    public static final int MAX_MEMBERS = 2_000_000;

    private TarfsIndex() {
    }

    /**
     * The index for the tar in {@code tar} (the whole file is the layer's contents) and the length
     * the layer file has once it is appended ({@link Result#layerSize()}, a multiple of 4 KiB).
     */
    public record Result(byte[] index, long contentsSize, long inodeCount, List<String> skipped) {
        public Result {
            skipped = List.copyOf(skipped);
        }

        /** The conversion's length: the tar followed by {@link #index()}. */
        public long layerSize() {
            return contentsSize + index.length;
        }
    }

    static final class Node {
        long offset;
        long size;
        TreeMap<byte[], Node> children = new TreeMap<>(Arrays::compareUnsigned);
        int mode;
        long ino;
        boolean emitted;
        boolean opaque;
        long mtime;
        int owner;
        int group;

        Node child(byte[] name) {
            return children.computeIfAbsent(name, n -> new Node());
        }
    }

    public static Result build(FileChannel tar) throws IOException {
        RawTarReader reader = new RawTarReader(tar);
        Node[] root = {new Node()};
        root[0].mode = S_IFDIR | 0555;
        List<byte[]> specialLinks = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int members = 0;
        RawTarEntry e;
        while ((e = reader.next()) != null) {
            if (++members > MAX_MEMBERS) {
                throw new FormatException("tar layer has more than " + MAX_MEMBERS + " members");
            }
            if (e.mode() < 0) {
                skipped.add(name(e) + ": the mode does not parse");
                continue;
            }
            int mode = (int) (e.mode() & 0xffff) & 0x1ff;
            long size;
            long offset;
            switch (e.type()) {
                case 0, '0' -> {
                    mode |= S_IFREG;
                    size = e.size();
                    offset = e.dataOffset();
                }
                case '5' -> {
                    mode |= S_IFDIR;
                    size = 0;
                    offset = 0;
                }
                case '6' -> {
                    mode |= S_IFIFO;
                    size = 0;
                    offset = 0;
                }
                case '3', '4' -> {
                    mode |= e.type() == '3' ? S_IFCHR : S_IFBLK;
                    if (e.devMajor() < 0 || e.devMinor() < 0) {
                        skipped.add(name(e) + ": a device without device numbers");
                        continue;
                    }
                    offset = e.devMinor() | (e.devMajor() << 32);
                    size = 0;
                }
                case '2' -> {
                    mode |= S_IFLNK;
                    if (e.linkName() == null) {
                        skipped.add(name(e) + ": a symlink without a target");
                        continue;
                    }
                    byte[] header = e.headerLinkName() == null ? new byte[0] : e.headerLinkName();
                    if (!Arrays.equals(header, e.linkName())) {
                        specialLinks.add(e.linkName());
                        offset = 0;
                    } else {
                        offset = e.headerOffset() + 157;
                    }
                    size = e.linkName().length;
                }
                case '1' -> {
                    if (e.linkName() == null) {
                        skipped.add(name(e) + ": a hard link without a target");
                    } else {
                        hardLink(root, e.path(), e.linkName(), skipped);
                    }
                    continue;
                }
                default -> {
                    skipped.add(name(e) + ": tar type '" + (char) e.type() + "' is not converted");
                    continue;
                }
            }
            place(root[0], e, mode, size, offset, skipped);
        }
        long contentsSize = reader.fileSize();
        return write(root[0], contentsSize, specialLinks, skipped);
    }

    private static String name(RawTarEntry e) {
        return new String(e.path(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The path's components with {@code .} and empty ones dropped and {@code ..} applied; null when it leaves the root. */
    static List<byte[]> cleanPath(byte[] path) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= path.length; i++) {
            if (i == path.length || path[i] == '/') {
                byte[] c = Arrays.copyOfRange(path, start, i);
                start = i + 1;
                if (c.length == 0 || (c.length == 1 && c[0] == '.')) {
                    continue;
                }
                if (c.length == 2 && c[0] == '.' && c[1] == '.') {
                    if (out.isEmpty()) {
                        return null;
                    }
                    out.remove(out.size() - 1);
                    continue;
                }
                out.add(c);
            }
        }
        return out;
    }

    private static Node traverse(Node root, List<byte[]> path, int count) {
        Node n = root;
        for (int i = 0; i < count; i++) {
            n = n.child(path.get(i));
        }
        return n;
    }

    private static final byte[] OPAQUE_MARKER = ".wh..wh..opq".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] WHITEOUT_PREFIX = ".wh.".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static void place(Node root, RawTarEntry e, int mode, long size, long offset, List<String> skipped) {
        List<byte[]> path = cleanPath(e.path());
        if (path == null) {
            skipped.add(name(e) + ": the name leaves the layer's root");
            return;
        }
        if (!path.isEmpty()) {
            byte[] last = path.get(path.size() - 1);
            if (Arrays.equals(last, OPAQUE_MARKER)) {
                traverse(root, path, path.size() - 1).opaque = true;
                return;
            }
            if (last.length >= WHITEOUT_PREFIX.length && Arrays.equals(last, 0, WHITEOUT_PREFIX.length, WHITEOUT_PREFIX, 0,
                    WHITEOUT_PREFIX.length)) {
                path.set(path.size() - 1, Arrays.copyOfRange(last, WHITEOUT_PREFIX.length, last.length));
                Node n = traverse(root, path, path.size());
                n.children = new TreeMap<>(Arrays::compareUnsigned);
                n.mode = (n.mode & ~S_IFMT) | S_IFCHR;
                n.size = 0;
                n.offset = 0;
                return;
            }
        }
        // The member replaces whatever the path held (a hard-linked node changes under every name).
        Node n = traverse(root, path, path.size());
        n.children = new TreeMap<>(Arrays::compareUnsigned);
        n.mode = mode;
        n.size = size;
        n.offset = offset;
        n.mtime = e.mtime();
        n.owner = (int) e.uid();
        n.group = (int) e.gid();
        n.ino = 0;
        n.emitted = false;
        n.opaque = false;
    }

    private static void hardLink(Node[] root, byte[] name, byte[] target, List<String> skipped) {
        List<byte[]> to = cleanPath(target);
        if (to == null) {
            skipped.add(new String(name, java.nio.charset.StandardCharsets.UTF_8) + ": the link target leaves the layer's root");
            return;
        }
        Node existing = traverse(root[0], to, to.size());
        if ((existing.mode & S_IFMT) != S_IFREG) {
            skipped.add(new String(name, java.nio.charset.StandardCharsets.UTF_8) + ": a hard link to something other than a file");
            return;
        }
        List<byte[]> path = cleanPath(name);
        if (path == null) {
            skipped.add(new String(name, java.nio.charset.StandardCharsets.UTF_8) + ": the name leaves the layer's root");
            return;
        }
        if (path.isEmpty()) {
            root[0] = existing;
        } else {
            traverse(root[0], path, path.size() - 1).children.put(path.get(path.size() - 1), existing);
        }
    }

    /**
     * Breadth-first over the tree as the snapshotter walks it: a node reached through several names
     * is visited each time. Hard links can make the graph cyclic (a link inside its own target's
     * children), where the snapshotter would loop forever: here the walk stops with an error.
     */
    private static void breadthFirst(Node root, long limit, Consumer<Node> visitor) throws FormatException {
        ArrayDeque<Node> q = new ArrayDeque<>();
        q.add(root);
        long visits = 0;
        while (!q.isEmpty()) {
            if (++visits > limit) {
                throw new FormatException("the layer's hard links form a cycle (the tree never ends)");
            }
            Node n = q.poll();
            visitor.accept(n);
            q.addAll(n.children.values());
        }
    }

    private static long visitLimit() {
        return 4L * MAX_MEMBERS + 1;
    }

    private static Result write(Node root, long contentsSize, List<byte[]> specialLinks, List<String> skipped) throws IOException {
        long limit = visitLimit();
        long[] inoCount = {0};
        breadthFirst(root, limit, n -> {
            if (n.ino == 0) {
                n.ino = ++inoCount[0];
            }
        });
        long inodeTableSize = INODE_SIZE * inoCount[0];
        long[] offset = {contentsSize + inodeTableSize};
        breadthFirst(root, limit, n -> {
            if ((n.mode & S_IFMT) == S_IFDIR) {
                n.offset = offset[0];
                n.size = (long) DIRENT_SIZE * n.children.size();
                offset[0] += n.size;
            }
        });
        long[] symlinkOffset = {offset[0]};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer rec = ByteBuffer.allocate(INODE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        breadthFirst(root, limit, n -> {
            if (n.emitted) {
                return;
            }
            long inodeOffset = n.offset;
            if ((n.mode & S_IFMT) == S_IFLNK && n.offset == 0) {
                inodeOffset = symlinkOffset[0];
                symlinkOffset[0] += n.size;
            }
            n.emitted = true;
            rec.clear();
            rec.putShort((short) n.mode).put(n.opaque ? OPAQUE : 0).put((byte) ((n.mtime >>> 32) & 0xf))
                    .putInt(n.owner).putInt(n.group).putInt((int) n.mtime).putLong(n.size).putLong(inodeOffset);
            out.write(rec.array(), 0, INODE_SIZE);
            checkSize(out);
        });
        long[] nameOffset = {symlinkOffset[0]};
        breadthFirst(root, limit, n -> {
            if ((n.mode & S_IFMT) != S_IFDIR) {
                return;
            }
            for (var c : n.children.entrySet()) {
                rec.clear();
                rec.putLong(c.getValue().ino).putLong(nameOffset[0]).putLong(c.getKey().length).put(entryType(c.getValue().mode))
                        .put(new byte[7]);
                out.write(rec.array(), 0, DIRENT_SIZE);
                nameOffset[0] += c.getKey().length;
                checkSize(out);
            }
        });
        // The snapshotter's end offset counts the special links once more and the names twice (it adds
        // them to the dirents' running name offset again as it writes them); its padding follows from that.
        long end = nameOffset[0];
        for (byte[] link : specialLinks) {
            out.write(link, 0, link.length);
            end += link.length;
        }
        long[] names = {0};
        breadthFirst(root, limit, n -> {
            if ((n.mode & S_IFMT) == S_IFDIR) {
                for (byte[] name : n.children.keySet()) {
                    out.write(name, 0, name.length);
                    names[0] += name.length;
                    checkSize(out);
                }
            }
        });
        end += names[0];
        end = (end + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        long total = end + ALIGNMENT - contentsSize;
        if (total > Integer.MAX_VALUE - 8 || total < out.size() + 16L) {
            throw new FormatException("the tarfs index would be " + total + " bytes");
        }
        byte[] index = Arrays.copyOf(out.toByteArray(), (int) total);
        ByteBuffer sb = ByteBuffer.wrap(index, (int) (end + ALIGNMENT - 512 - contentsSize), 16).order(ByteOrder.LITTLE_ENDIAN);
        sb.putLong(contentsSize).putLong(inoCount[0]);
        return new Result(index, contentsSize, inoCount[0], skipped);
    }

    private static void checkSize(ByteArrayOutputStream out) {
        if (out.size() > 1 << 30) {
            throw new IllegalStateException("the tarfs index exceeds 1 GiB");
        }
    }

    static byte entryType(int mode) {
        return switch (mode & S_IFMT) {
            case S_IFSOCK -> 12;
            case S_IFLNK -> 10;
            case S_IFREG -> 8;
            case S_IFBLK -> 6;
            case S_IFDIR -> 4;
            case S_IFCHR -> 2;
            case S_IFIFO -> 1;
            default -> 0;
        };
    }
}
