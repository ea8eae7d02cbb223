package dev.cairn.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a reproducible FAT32 image (an EFI system partition) in one pass: the same size, volume
 * id, label, time stamp and files always give the same bytes.
 *
 * <p>Layout: exactly what {@code mkfs.fat -F 32} (dosfstools 4.2) makes of a regular file of the
 * same size ({@link FatGeometry}); an image with no files is byte-identical to
 * {@code mkfs.fat --invariant -F 32 -i VOLID -n LABEL} run with {@code TZ=UTC} and the
 * {@code --invariant} time stamp, except for the OEM name ({@code "cairn   "} instead of
 * {@code "mkfs.fat"}). Then: directories first (root at cluster 2, then the others depth-first,
 * entries sorted by the UTF-8 bytes of their names), then the files in the same order, each in
 * consecutive clusters. Every time stamp (creation, modification, access, and the volume label's)
 * is the given instant in UTC. Names that are plain upper-case 8.3 names ({@code EFI},
 * {@code BOOT}, {@code BOOTX64.EFI}) get a single short entry; every other name gets VFAT long-name
 * entries and a deterministic short alias ({@link FatNames}). Names are case-insensitive: two that
 * differ only in case are refused.
 *
 * <p>Protocol: {@code add…()} any number of times, then {@link #finish} once; file contents are
 * read during {@code finish} (a file whose size changed since it was added is an error).
 */
public final class Fat32Writer implements Closeable {
    private static final int BUFFER = 1 << 20;
    private static final long EOC = 0x0FFF_FFFFL;
    /** mkfs.fat marks the root directory's end with {@code FAT_EOF}, 0x0FFFFFF8. */
    private static final long ROOT_EOC = 0x0FFF_FFF8L;
    private static final int MAX_DIR_ENTRIES = 65536;

    private final FatGeometry geometry;
    private final int volumeId;
    private final byte[] label;
    private final FatTime time;
    private final FatTime labelTime;
    private final Node root = new Node("", null, true);
    private boolean finished;
    private boolean closed;

    /**
     * @param sizeBytes             image size: a multiple of 512 giving at least 65525 clusters
     *                              ({@link FatGeometry#MIN_SIZE}, about 32 MiB; use 33 MiB or more)
     * @param volumeId              serial number ({@link RepartUuids#fatVolumeId} for repart's)
     * @param label                 volume label, mangled as repart does ({@code esp} becomes
     *                              {@code ESP}); null or empty for none
     * @param timestampEpochSeconds every time stamp in the file system (UTC; clamped to 1980-2107)
     */
    public Fat32Writer(long sizeBytes, int volumeId, String label, long timestampEpochSeconds) {
        this.geometry = FatGeometry.of(sizeBytes);
        this.volumeId = volumeId;
        this.label = FatNames.volumeLabel(label);
        this.time = FatTime.of(timestampEpochSeconds);
        FatTime t = time;
        // mkfs.fat writes the label entry without the odd-second tenths
        this.labelTime = new FatTime(t.date(), t.time(), 0);
    }

    public FatGeometry geometry() {
        return geometry;
    }

    /** Adds a directory and any missing parents; adding an existing directory again does nothing. */
    public void addDirectory(String path) {
        checkOpen();
        List<String> parts = split(path);
        if (parts.isEmpty()) {
            return;
        }
        directory(parts, parts.size());
    }

    /** Adds a file copied from {@code source} during {@link #finish}; missing parent directories are added. */
    public void addFile(String path, Path source) throws IOException {
        checkOpen();
        Objects.requireNonNull(source, "source");
        if (!Files.isRegularFile(source)) {
            throw new IllegalArgumentException("not a regular file: " + source);
        }
        long size = Files.size(source);
        Node n = newFile(path, size);
        n.source = source;
    }

    /** Adds a file with these bytes (copied now); missing parent directories are added. */
    public void addFile(String path, byte[] data) {
        checkOpen();
        Objects.requireNonNull(data, "data");
        Node n = newFile(path, data.length);
        n.data = data.clone();
    }

    private Node newFile(String path, long size) {
        if (size > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("FAT files are smaller than 4 GiB: " + path + " has " + size + " bytes");
        }
        List<String> parts = split(path);
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("a file needs a name: \"" + path + "\"");
        }
        Node dir = directory(parts, parts.size() - 1);
        String name = parts.get(parts.size() - 1);
        Node existing = dir.children.get(FatNames.key(name));
        if (existing != null) {
            throw new IllegalArgumentException((existing.directory ? "a directory " : "a file ") + "named \"" + existing.name
                    + "\" already exists where " + path + " goes (FAT names are case-insensitive)");
        }
        Node n = new Node(name, dir, false);
        n.size = size;
        dir.children.put(FatNames.key(name), n);
        return n;
    }

    private Node directory(List<String> parts, int depth) {
        Node d = root;
        for (int i = 0; i < depth; i++) {
            String name = parts.get(i);
            Node c = d.children.get(FatNames.key(name));
            if (c == null) {
                c = new Node(name, d, true);
                d.children.put(FatNames.key(name), c);
            } else if (!c.directory) {
                throw new IllegalArgumentException("\"" + String.join("/", parts.subList(0, i + 1)) + "\" is a file, not a directory");
            } else if (!c.name.equals(name)) {
                throw new IllegalArgumentException("directory \"" + name + "\" exists as \"" + c.name
                        + "\" (FAT names are case-insensitive; use one spelling)");
            }
            d = c;
        }
        return d;
    }

    private static List<String> split(String path) {
        Objects.requireNonNull(path, "path");
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.isEmpty()) {
            return List.of();
        }
        List<String> parts = Arrays.asList(p.split("/", -1));
        for (String s : parts) {
            FatNames.checkLongName(s);
        }
        return parts;
    }

    private void checkOpen() {
        if (finished || closed) {
            throw new IllegalStateException("the FAT image is already finished");
        }
    }

    /**
     * Plans the clusters and writes the whole image (exactly {@code sizeBytes} bytes) sequentially
     * from the channel's current position.
     *
     * @throws IllegalStateException when called twice, or when the files do not fit (nothing is
     *                               written then)
     */
    public FatResult finish(SeekableByteChannel out) throws IOException {
        Objects.requireNonNull(out, "out");
        checkOpen();
        finished = true;
        Plan plan = plan();
        MessageDigest digest = GptWriter.sha256();
        DigestingOutput sink = new DigestingOutput(out, digest);

        FatBootSector boot = FatBootSector.of(geometry, volumeId, label);
        FatFsInfo info = new FatFsInfo(geometry.clusterCount() - plan.used, plan.used + 1);
        byte[] reserved = new byte[geometry.reservedSectors() * FatGeometry.SECTOR_SIZE];
        System.arraycopy(boot.encode(), 0, reserved, 0, FatBootSector.SIZE);
        System.arraycopy(info.encode(), 0, reserved, FatGeometry.FS_INFO_SECTOR * FatGeometry.SECTOR_SIZE, FatFsInfo.SIZE);
        int backup = FatGeometry.BACKUP_BOOT_SECTOR * FatGeometry.SECTOR_SIZE;
        System.arraycopy(boot.encode(), 0, reserved, backup, FatBootSector.SIZE);
        System.arraycopy(info.encode(), 0, reserved, backup + FatGeometry.FS_INFO_SECTOR * FatGeometry.SECTOR_SIZE, FatFsInfo.SIZE);
        sink.write(reserved);
        for (int f = 0; f < FatGeometry.NUM_FATS; f++) {
            writeFat(sink, plan);
        }
        int cb = geometry.clusterBytes();
        for (Node d : plan.directories) {
            byte[] bytes = directoryBytes(d, plan);
            sink.write(bytes);
        }
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        for (Node f : plan.files) {
            long written;
            if (f.data != null) {
                sink.write(f.data);
                written = f.data.length;
            } else {
                written = copy(f, sink, buf);
            }
            sink.zeros((long) f.clusters * cb - written);
        }
        sink.zeros(geometry.sizeBytes() - sink.written);
        return new FatResult(geometry, plan.used, plan.files.size(), plan.directories.size(), digest.digest());
    }

    private static long copy(Node f, DigestingOutput sink, ByteBuffer buf) throws IOException {
        long copied = 0;
        try (FileChannel in = FileChannel.open(f.source, StandardOpenOption.READ)) {
            while (true) {
                buf.clear();
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                if (copied + n > f.size) {
                    throw new IOException(f.source + " grew after it was added to the FAT image (" + f.size + " bytes)");
                }
                buf.flip();
                sink.write(buf);
                copied += n;
            }
        }
        if (copied != f.size) {
            throw new IOException(f.source + " shrank after it was added to the FAT image: " + copied + " of " + f.size + " bytes");
        }
        return copied;
    }

    /** Nothing to release; marks the writer unusable. */
    @Override
    public void close() {
        closed = true;
    }

    // ---- planning ------------------------------------------------------------------------------

    private static final Comparator<Node> UTF8_ORDER = (a, b) -> Arrays.compareUnsigned(
            a.name.getBytes(StandardCharsets.UTF_8), b.name.getBytes(StandardCharsets.UTF_8));

    private static final class Node {
        final String name;
        final Node parent;
        final boolean directory;
        final Map<String, Node> children = new LinkedHashMap<>();
        Path source;
        byte[] data;
        long size;
        // planned
        List<Node> sorted;
        byte[] shortName;
        boolean longName;
        int entries;
        long firstCluster;
        int clusters;

        Node(String name, Node parent, boolean directory) {
            this.name = name;
            this.parent = parent;
            this.directory = directory;
        }
    }

    private static final class Plan {
        final List<Node> directories = new ArrayList<>();
        final List<Node> files = new ArrayList<>();
        long used;
    }

    private Plan plan() {
        Plan plan = new Plan();
        collect(root, plan);
        int cb = geometry.clusterBytes();
        long next = FatGeometry.ROOT_CLUSTER;
        for (Node d : plan.directories) {
            long bytes = (long) d.entries * FatDirEntry.SIZE;
            d.clusters = (int) Math.max(1, (bytes + cb - 1) / cb);
            d.firstCluster = next;
            next += d.clusters;
        }
        for (Node f : plan.files) {
            f.clusters = (int) ((f.size + cb - 1) / cb);
            f.firstCluster = f.clusters == 0 ? 0 : next;
            next += f.clusters;
        }
        plan.used = next - FatGeometry.ROOT_CLUSTER;
        if (plan.used > geometry.clusterCount()) {
            throw new IllegalStateException("the files and directories need " + plan.used + " clusters of " + cb
                    + " bytes, the " + geometry.sizeBytes() + "-byte FAT32 image has " + geometry.clusterCount());
        }
        return plan;
    }

    /** Depth-first: a directory, then its subdirectories; files collected in the same order. */
    private void collect(Node d, Plan plan) {
        d.sorted = new ArrayList<>(d.children.values());
        d.sorted.sort(UTF8_ORDER);
        assignShortNames(d);
        int entries = d == root ? (Arrays.equals(label, FatNames.volumeLabel(null)) ? 0 : 1) : 2;
        for (Node c : d.sorted) {
            entries += 1 + (c.longName ? (c.name.length() + FatLfnEntry.UNITS - 1) / FatLfnEntry.UNITS : 0);
        }
        if (entries > MAX_DIR_ENTRIES) {
            throw new IllegalArgumentException("directory \"" + path(d) + "\" would need " + entries
                    + " entries; FAT allows " + MAX_DIR_ENTRIES);
        }
        d.entries = entries;
        plan.directories.add(d);
        for (Node c : d.sorted) {
            if (!c.directory) {
                plan.files.add(c);
            }
        }
        for (Node c : d.sorted) {
            if (c.directory) {
                collect(c, plan);
            }
        }
    }

    private static void assignShortNames(Node d) {
        Set<String> taken = new HashSet<>();
        taken.add(FatNames.text(FatNames.pack(".", "")));
        taken.add(FatNames.text(FatNames.pack("..", "")));
        for (Node c : d.sorted) {
            c.shortName = FatNames.plainShortName(c.name);
            c.longName = c.shortName == null;
            if (c.shortName != null) {
                taken.add(FatNames.text(c.shortName));
            }
        }
        for (Node c : d.sorted) {
            if (c.longName) {
                c.shortName = FatNames.alias(c.name, taken);
                taken.add(FatNames.text(c.shortName));
            }
        }
    }

    private static String path(Node n) {
        return n.parent == null ? "/" : (n.parent.parent == null ? "" : path(n.parent)) + "/" + n.name;
    }

    // ---- encoding ------------------------------------------------------------------------------

    private byte[] directoryBytes(Node d, Plan plan) {
        byte[] b = new byte[d.clusters * geometry.clusterBytes()];
        int off = 0;
        if (d == root) {
            if (!Arrays.equals(label, FatNames.volumeLabel(null))) {
                FatDirEntry.of(label, FatDirEntry.ATTR_VOLUME_ID, labelTime, 0, 0).encode(b, off);
                off += FatDirEntry.SIZE;
            }
        } else {
            FatDirEntry.of(FatNames.pack(".", ""), FatDirEntry.ATTR_DIRECTORY, time, d.firstCluster, 0).encode(b, off);
            off += FatDirEntry.SIZE;
            long up = d.parent == root ? 0 : d.parent.firstCluster;
            FatDirEntry.of(FatNames.pack("..", ""), FatDirEntry.ATTR_DIRECTORY, time, up, 0).encode(b, off);
            off += FatDirEntry.SIZE;
        }
        for (Node c : d.sorted) {
            if (c.longName) {
                for (FatLfnEntry l : FatLfnEntry.forName(c.name, FatLfnEntry.checksum(c.shortName))) {
                    l.encode(b, off);
                    off += FatLfnEntry.SIZE;
                }
            }
            int attr = c.directory ? FatDirEntry.ATTR_DIRECTORY : FatDirEntry.ATTR_ARCHIVE;
            FatDirEntry.of(c.shortName, attr, time, c.firstCluster, c.directory ? 0 : c.size).encode(b, off);
            off += FatDirEntry.SIZE;
        }
        return b;
    }

    /** Streams one FAT: entries 0 and 1, then each object's chain, then free (0) entries. */
    private void writeFat(DigestingOutput sink, Plan plan) throws IOException {
        long fatBytes = geometry.fatSectors() * FatGeometry.SECTOR_SIZE;
        byte[] chunk = new byte[64 * 1024];
        int pos = 0;
        long emitted = 0;
        List<Node> objects = new ArrayList<>(plan.directories);
        objects.addAll(plan.files);
        long[] head = {0x0FFF_FF00L | FatGeometry.MEDIA, EOC};
        for (long v : head) {
            putEntry(chunk, pos, v);
            pos += 4;
        }
        for (Node o : objects) {
            for (int i = 0; i < o.clusters; i++) {
                long v = i + 1 < o.clusters ? o.firstCluster + i + 1 : (o == root ? ROOT_EOC : EOC);
                putEntry(chunk, pos, v);
                pos += 4;
                if (pos == chunk.length) {
                    sink.write(chunk);
                    emitted += pos;
                    pos = 0;
                }
            }
        }
        if (pos > 0) {
            Arrays.fill(chunk, pos, chunk.length, (byte) 0);
            int n = (int) Math.min(chunk.length, fatBytes - emitted);
            sink.write(Arrays.copyOf(chunk, n));
            emitted += n;
        }
        sink.zeros(fatBytes - emitted);
    }

    private static void putEntry(byte[] b, int off, long v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }
}
