package dev.cairn.squashfs;

import dev.cairn.io.Checked;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a SquashFS 4.0 image in one pass over the content.
 *
 * <p>Entries are added in any order ({@code add…()}); file content is read once, split into
 * blocks, compressed on {@link SquashfsOptions#processors()} threads and written in order through
 * a bounded queue, so memory stays flat whatever the input size. Only metadata (about 60 bytes per
 * entry) is kept until {@link #finish()}, which writes the inode, directory, fragment, export, id
 * and xattr tables and back-patches the superblock. Output bytes depend only on the entries and
 * options: names are sorted by unsigned bytes, inode numbers follow the sorted tree, and nothing
 * reads the clock, the thread count or the host.
 */
public final class SquashfsWriter implements AutoCloseable {
    private static final byte[] ZERO = new byte[1 << 20];
    /** Bound on queued items of any kind (file ends, sparse blocks, jobs): a few MiB of records. */
    private static final int MAX_ITEMS = 1 << 16;
    /** Content of a file held back (not compressed) until its digest shows whether it is a duplicate. */
    static final int HOLD = 8 << 20;

    private final FileChannel out;
    private final SquashfsOptions options;
    private final Codec codec;
    private final int blockSize;
    private final ExecutorService workers;
    private final ThreadLocal<Codec.Compressor> compressors;
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    /** Compression jobs (blocks and fragments) allowed in the queue: the workers' backlog. */
    private final int maxJobs;
    private int queuedJobs;
    private final Map<DedupKey, FileData> byContent = new HashMap<>();
    /** Sizes of the files in {@link #byContent}. */
    private final java.util.Set<Long> digestedSizes = new java.util.HashSet<>();
    /** Files stored without a digest, by size (one per size: a second file of the size gets the first one digested). */
    private final Map<Long, FileData> undigested = new HashMap<>();
    /** How many planned files have each content size ({@link #planFileSizes}); null: no plan, every file is digested. */
    private Map<Long, Integer> plannedSizes;
    private long digestedFiles;
    private final Node root;
    private final MessageDigest sha256;

    private long pos;
    private byte[] fragment;
    private int fragmentFill;
    private final List<long[]> fragmentEntries = new ArrayList<>(); // {start, size word}
    private long fragmentCount;
    private long inputBytes;
    private long duplicateFiles;
    private long duplicateBytes;
    private long sparseBytes;
    private long compressionJobs;
    private boolean finished;
    private Map<Long, Integer> tableIds;
    private XattrTable tableXattrs;
    private boolean closed;
    private java.util.function.LongConsumer progress = n -> { };
    private final List<EntryAttributes> attributeSets = new ArrayList<>();
    /** Digest algorithms the attribute sets need of file content, in registration order (deduplicated). */
    private final List<String> digestAlgorithms = new ArrayList<>();
    private MessageDigest[] contentDigests = new MessageDigest[0];
    private boolean filesAdded;
    private final java.util.LinkedHashSet<String> warnings = new java.util.LinkedHashSet<>();
    private EntryGate gate;
    /** Directories the gate left out: everything below them is left out too. */
    private final java.util.Set<String> gatedDirectories = new java.util.HashSet<>();
    /** Non-directories the gate left out: a hard link to one is left out with a warning. */
    private final java.util.Set<String> gatedEntries = new java.util.HashSet<>();

    public SquashfsWriter(FileChannel out, SquashfsOptions options) throws IOException {
        this.out = out;
        this.options = options;
        this.blockSize = options.blockSize();
        this.codec = new Codec(options.compression(), options.level(), blockSize, options.compression() == Compression.LZ4 && options.level() > 0);
        this.compressors = ThreadLocal.withInitial(codec::newCompressor);
        int threads = options.processors();
        this.workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "cairn-squashfs");
            t.setDaemon(true);
            return t;
        });
        this.maxJobs = Math.max(4, threads * 6);
        this.fragment = new byte[blockSize];
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long t = options.forcedMtime() != null ? options.forcedMtime() : 0;
        this.root = Node.directory(new byte[0], null, EntryMetadata.of(0755, 0, 0, t));
        this.root.implicit = true;
        out.truncate(0);
        pos = Superblock.SIZE;
        byte[] opts = codec.options();
        if (opts != null) {
            ByteBuffer h = ByteBuffer.allocate(2 + opts.length).order(ByteOrder.LITTLE_ENDIAN);
            h.putShort((short) (0x8000 | opts.length)).put(opts);
            writeAt(h.array(), 0, h.capacity());
        }
    }

    /**
     * Tells {@code bytesRead} how many bytes of file content were read, as they are read (on the
     * thread calling {@code add…()}), for a progress display; returns this writer.
     */
    public SquashfsWriter onContentRead(java.util.function.LongConsumer bytesRead) {
        this.progress = java.util.Objects.requireNonNull(bytesRead);
        return this;
    }

    /**
     * Announces the content sizes of regular files about to be added with an expected size
     * ({@link #addFile(String, EntryMetadata, InputStream, long, long)}), e.g. from a stat of
     * every file of a tree before its content is read (sizes add up over calls); returns this
     * writer. Duplicate detection then skips the SHA-256 of a file whose expected size no other
     * planned or earlier file has: only files of equal size can be equal (mksquashfs compares only
     * those too). The plan is a hint that never changes the image: when a file turns out to share
     * its size after all (it changed while being read, or a file outside the plan has that size),
     * the digests still missing are taken from the content held in memory or read back from the
     * image, and the files are compared as without a plan.
     */
    public SquashfsWriter planFileSizes(long[] sizes) {
        checkOpen();
        if (!options.duplicates()) {
            return this;
        }
        try {
            out.read(ByteBuffer.allocate(0), 0); // a digest may have to be read back from the image
        } catch (java.nio.channels.NonReadableChannelException | IOException e) {
            return this; // no plan then: every file is digested while it is read
        }
        if (plannedSizes == null) {
            plannedSizes = new HashMap<>();
        }
        for (long size : sizes) {
            plannedSizes.merge(size, 1, Integer::sum);
        }
        return this;
    }

    /** Files whose SHA-256 duplicate detection computed (for tests: a planned unique size needs none). */
    long digestedFiles() {
        return digestedFiles;
    }

    /**
     * Registers extended attributes to set on every entry at {@link #finish()} (see
     * {@link EntryAttributes}); sets registered later see what earlier ones set. Register before
     * the first file when the set needs content digests.
     *
     * @throws IllegalStateException when the options store no xattrs, or a file was already added
     *                               and the set needs a content digest
     */
    public SquashfsWriter addEntryAttributes(EntryAttributes attributes) {
        checkOpen();
        if (!options.xattrs()) {
            throw new IllegalStateException("extended attributes are switched off (no-xattrs): nothing to set them in");
        }
        String alg = attributes.contentDigest();
        if (alg != null) {
            if (filesAdded) {
                throw new IllegalStateException("content digests are computed while files are read: register before the first file");
            }
            if (!digestAlgorithms.contains(alg)) {
                try {
                    MessageDigest.getInstance(alg);
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalArgumentException("unknown digest algorithm " + alg, e);
                }
                digestAlgorithms.add(alg);
                MessageDigest[] mds = new MessageDigest[digestAlgorithms.size()];
                for (int k = 0; k < mds.length; k++) {
                    try {
                        mds[k] = MessageDigest.getInstance(digestAlgorithms.get(k));
                    } catch (NoSuchAlgorithmException e) {
                        throw new IllegalStateException(e);
                    }
                }
                contentDigests = mds;
            }
        }
        attributeSets.add(attributes);
        return this;
    }

    /**
     * Asks {@code gate} before every entry added from now on whether it is stored (see
     * {@link EntryGate}); returns this writer. One gate at a time; null removes it.
     */
    public SquashfsWriter gate(EntryGate gate) {
        checkOpen();
        this.gate = gate;
        return this;
    }

    /** The file type bits ({@link EntryAttributes#S_IFREG}, ...) of the entry at {@code path}, or 0 when there is none. */
    public int typeOf(String path) {
        Node n = find(path);
        return n == null ? 0 : fileType(n.inode.kind);
    }

    /** The gate's verdict on an entry about to be added at {@code names} (ADD without a gate, and for the root). */
    private EntryGate.Verdict admit(byte[][] names, int type) throws IOException {
        if (gate == null || names.length == 0) {
            return EntryGate.Verdict.ADD;
        }
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            if (i > 0) {
                if (!gatedDirectories.isEmpty() && gatedDirectories.contains(p.toString())) {
                    return EntryGate.Verdict.SKIP;
                }
                p.append('/');
            }
            p.append(new String(names[i], StandardCharsets.UTF_8));
        }
        String path = p.toString();
        EntryGate.Verdict v = java.util.Objects.requireNonNull(gate.check(path, type), "gate verdict");
        if (v == EntryGate.Verdict.EMPTY && type != EntryAttributes.S_IFREG) {
            throw new IllegalStateException("the gate emptied " + path + ", which is not a regular file");
        }
        if (v == EntryGate.Verdict.SKIP) {
            (type == EntryAttributes.S_IFDIR ? gatedDirectories : gatedEntries).add(path);
        }
        return v;
    }

    /**
     * Records something the caller should know about the image (what a source left out), once;
     * {@link SquashfsResult#warnings()} lists them in order.
     */
    public void warning(String message) {
        warnings.add(java.util.Objects.requireNonNull(message));
    }

    /** False when the options drop extended attributes anyway (mksquashfs -no-xattrs): a source need not read them. */
    public boolean keepsXattrs() {
        return options.xattrs();
    }

    // ---------------------------------------------------------------- entries

    /** Adds (or updates the metadata of) a directory; missing parents are created. */
    public void addDirectory(String path, EntryMetadata meta) throws IOException {
        checkOpen();
        byte[][] names = split(path);
        if (names.length == 0) {
            root.inode.meta = applyTime(meta);
            root.implicit = false;
            return;
        }
        if (admit(names, EntryAttributes.S_IFDIR) == EntryGate.Verdict.SKIP) {
            return;
        }
        Node parent = parentOf(names);
        byte[] name = names[names.length - 1];
        Node existing = parent.children.get(new Name(name));
        if (existing != null && existing.inode.kind == Inode.DIR) {
            existing.inode.meta = applyTime(meta);
            existing.implicit = false;
            return;
        }
        put(parent, Node.directory(name, parent, applyTime(meta)));
    }

    /** Adds a regular file, reading {@code content} to its end. */
    public void addFile(String path, EntryMetadata meta, InputStream content) throws IOException {
        addFile(path, meta, content, -1);
    }

    /**
     * Adds a regular file, reading {@code content} to its end, with the bytes the source file
     * occupies on disk ({@code st_blocks * 512}, or -1 when unknown). Its all-zero blocks are holes
     * in the image either way; as mksquashfs, the inode records them as sparse (which makes it an
     * extended inode) only when the source file is sparse itself, i.e. occupies less than its size.
     */
    public void addFile(String path, EntryMetadata meta, InputStream content, long allocatedBytes) throws IOException {
        addFile(path, meta, content, allocatedBytes, -1, true);
    }

    /**
     * Adds a regular file as {@link #addFile(String, EntryMetadata, InputStream, long)} does, whose
     * content is expected to be {@code expectedSize} bytes long (its stat size; -1 when unknown):
     * the size it was planned with ({@link #planFileSizes}). The content read is what is stored,
     * whatever its length.
     */
    public void addFile(String path, EntryMetadata meta, InputStream content, long allocatedBytes, long expectedSize) throws IOException {
        addFile(path, meta, content, allocatedBytes, expectedSize, true);
    }

    private void addFile(String path, EntryMetadata meta, InputStream content, long allocatedBytes, long expectedSize, boolean ask)
            throws IOException {
        checkOpen();
        byte[][] names = split(path);
        if (names.length == 0) {
            throw new IllegalArgumentException("the root must be a directory");
        }
        EntryGate.Verdict verdict = ask ? admit(names, EntryAttributes.S_IFREG) : EntryGate.Verdict.ADD;
        if (verdict == EntryGate.Verdict.SKIP) {
            return;
        }
        if (verdict == EntryGate.Verdict.EMPTY) {
            content = InputStream.nullInputStream();
            allocatedBytes = -1;
            expectedSize = -1;
        }
        Node parent = parentOf(names);
        InodeData inode = new InodeData(Inode.FILE, applyTime(meta));
        filesAdded = true;
        for (MessageDigest md : contentDigests) {
            md.reset();
        }
        inode.data = writeContent(content, expectedSize);
        if (contentDigests.length > 0) {
            inode.digests = new byte[contentDigests.length][];
            for (int k = 0; k < contentDigests.length; k++) {
                inode.digests[k] = contentDigests[k].digest();
            }
        }
        inode.data.denseSource = allocatedBytes >= 0 && allocatedBytes >= inode.data.size;
        put(parent, new Node(names[names.length - 1], inode));
    }

    /** Adds a symbolic link; the target is stored as given (it may dangle). */
    public void addSymlink(String path, EntryMetadata meta, String target) throws IOException {
        checkOpen();
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > 4096) {
            throw new FormatException("symlink target", path, "symlink target must be 1 to 4096 bytes");
        }
        InodeData inode = new InodeData(Inode.SYMLINK, applyTime(meta));
        inode.target = t;
        addNode(path, inode);
    }

    /** Adds a block ({@code 'b'}) or character ({@code 'c'}) device node. */
    public void addDevice(String path, EntryMetadata meta, char type, int major, int minor) throws IOException {
        checkOpen();
        InodeData inode = new InodeData(switch (type) {
            case 'b' -> Inode.BLKDEV;
            case 'c' -> Inode.CHRDEV;
            default -> throw new IllegalArgumentException("device type must be b or c, not " + type);
        }, applyTime(meta));
        inode.rdev = Inode.encodeDev(major, minor);
        addNode(path, inode);
    }

    /** Adds a named pipe. */
    public void addFifo(String path, EntryMetadata meta) throws IOException {
        checkOpen();
        addNode(path, new InodeData(Inode.FIFO, applyTime(meta)));
    }

    /** Adds a unix socket. */
    public void addSocket(String path, EntryMetadata meta) throws IOException {
        checkOpen();
        addNode(path, new InodeData(Inode.SOCKET, applyTime(meta)));
    }

    /** Adds {@code path} as another name of the non-directory entry {@code target}. */
    public void addHardLink(String path, String target) throws IOException {
        checkOpen();
        Node t = find(target);
        if (t == null && gate != null && gatedOut(split(target))) {
            warning("hard link " + path + " -> " + target + " left out: its target was left out");
            return;
        }
        if (t == null) {
            throw new FormatException("hard link", path + " -> " + target, "hard link target does not exist (yet)");
        }
        if (t.inode.kind == Inode.DIR) {
            throw new FormatException("hard link", path + " -> " + target, "hard link to a directory");
        }
        byte[][] names = split(path);
        if (names.length == 0) {
            throw new IllegalArgumentException("the root cannot be a hard link");
        }
        EntryGate.Verdict verdict = admit(names, fileType(t.inode.kind));
        if (verdict == EntryGate.Verdict.SKIP) {
            return;
        }
        if (verdict == EntryGate.Verdict.EMPTY) {
            // an emptied name of a linked file: an empty file of its own, the other names keep the content
            addFile(path, t.inode.meta, InputStream.nullInputStream(), -1, -1, false);
            return;
        }
        put(parentOf(names), new Node(names[names.length - 1], t.inode));
    }

    /** True when {@code path} names an entry already added. */
    public boolean contains(String path) {
        return find(path) != null;
    }

    /**
     * Changes ownership and mode of an existing entry (mksquashfs pseudo "m" definitions).
     *
     * @return false when there is no such entry
     */
    public boolean modify(String path, int mode, long uid, long gid) {
        Node n = find(path);
        if (n == null) {
            return false;
        }
        EntryMetadata m = n.inode.meta;
        n.inode.meta = new EntryMetadata(mode, uid, gid, m.mtime(), m.xattrs());
        return true;
    }

    /** Removes an entry (and everything below it). Content already written stays in the image. */
    public boolean remove(String path) {
        Node n = find(path);
        if (n == null || n == root) {
            return false;
        }
        n.parent.children.remove(new Name(n.name));
        return true;
    }

    /**
     * The names of the entries directly in directory {@code path} (sorted by UTF-8 bytes), or null
     * when there is no such directory.
     */
    List<String> childNames(String path) {
        Node n = find(path);
        if (n == null || n.inode.kind != Inode.DIR) {
            return null;
        }
        List<String> out = new ArrayList<>(n.children.size());
        for (Name k : n.children.keySet()) {
            out.add(new String(k.bytes(), StandardCharsets.UTF_8));
        }
        return out;
    }

    private void addNode(String path, InodeData inode) throws IOException {
        byte[][] names = split(path);
        if (names.length == 0) {
            throw new IllegalArgumentException("the root must be a directory");
        }
        if (admit(names, fileType(inode.kind)) == EntryGate.Verdict.SKIP) {
            return;
        }
        put(parentOf(names), new Node(names[names.length - 1], inode));
    }

    /** True when the gate left out {@code names} or a directory above it. */
    private boolean gatedOut(byte[][] names) {
        String p = joined(names);
        if (gatedEntries.contains(p) || gatedDirectories.contains(p)) {
            return true;
        }
        for (int s = p.lastIndexOf('/'); s > 0; s = p.lastIndexOf('/', s - 1)) {
            if (gatedDirectories.contains(p.substring(0, s))) {
                return true;
            }
        }
        return false;
    }

    private static String joined(byte[][] names) {
        StringBuilder p = new StringBuilder();
        for (byte[] n : names) {
            p.append(p.length() == 0 ? "" : "/").append(new String(n, StandardCharsets.UTF_8));
        }
        return p.toString();
    }

    private EntryMetadata applyTime(EntryMetadata m) {
        EntryMetadata r = m;
        if (options.forcedMtime() != null) {
            r = new EntryMetadata(m.mode(), m.uid(), m.gid(), options.forcedMtime(), m.xattrs());
        } else if (options.clampMtime() != null && m.mtime() > options.clampMtime()) {
            r = new EntryMetadata(m.mode(), m.uid(), m.gid(), options.clampMtime(), m.xattrs());
        } else if (m.mtime() < 0 || m.mtime() > 0xFFFF_FFFFL) {
            r = new EntryMetadata(m.mode(), m.uid(), m.gid(), Math.max(0, Math.min(m.mtime(), 0xFFFF_FFFFL)), m.xattrs());
        }
        if (!options.xattrs() && !r.xattrs().isEmpty()) {
            r = r.withXattrs(null);
        }
        checkXattrs(r.xattrs());
        return r;
    }

    /** The writer's (and reader's) bounds on one entry's xattrs: what the reader would refuse is not written. */
    private static void checkXattrs(SortedMap<String, byte[]> xattrs) {
        long names = 0;
        long total = 0;
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
            xattrPrefix(x.getKey());
            if (x.getValue().length > SquashfsImage.MAX_XATTR_VALUE) {
                throw new IllegalArgumentException("xattr " + x.getKey() + " has a value of " + x.getValue().length
                        + " bytes (at most " + SquashfsImage.MAX_XATTR_VALUE + ")");
            }
            int name = x.getKey().getBytes(StandardCharsets.UTF_8).length + 1;
            names += name;
            total += name + x.getValue().length;
        }
        // the reader's bounds: what it would refuse is not written
        if (names > XattrReader.MAX_SET_NAMES || total > XattrReader.MAX_SET_BYTES) {
            throw new IllegalArgumentException("xattrs of one entry exceed " + XattrReader.MAX_SET_NAMES
                    + " bytes of names or " + XattrReader.MAX_SET_BYTES + " bytes in all");
        }
    }

    /**
     * Asks every registered {@link EntryAttributes} for each inode's xattrs: inodes in pre-order
     * of the sorted tree (root first, a hard-linked inode under its first path), the calls spread
     * over the compression threads (idle by now), the results applied in tree order.
     */
    private void applyEntryAttributes() throws IOException {
        if (attributeSets.isEmpty()) {
            return;
        }
        List<InodeData> inodes = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        java.util.Set<InodeData> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        collect(root, "/", inodes, paths, seen);
        for (EntryAttributes set : attributeSets) {
            int digestIndex = set.contentDigest() == null ? -1 : digestAlgorithms.indexOf(set.contentDigest());
            List<Future<SortedMap<String, byte[]>>> results = new ArrayList<>(inodes.size());
            for (int k = 0; k < inodes.size(); k++) {
                InodeData i = inodes.get(k);
                String path = paths.get(k);
                byte[] digest = digestIndex >= 0 && i.digests != null ? i.digests[digestIndex] : null;
                EntryMetadata meta = i.meta;
                int type = fileType(i.kind);
                results.add(workers.submit(() -> set.attributes(path, type, meta, digest)));
            }
            for (int k = 0; k < inodes.size(); k++) {
                SortedMap<String, byte[]> x;
                try {
                    x = results.get(k).get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while setting attributes");
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) {
                        throw io;
                    }
                    if (c instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IOException(c);
                }
                InodeData i = inodes.get(k);
                if (x != i.meta.xattrs()) {
                    try {
                        checkXattrs(x);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(paths.get(k) + ": " + e.getMessage(), e);
                    }
                    i.meta = i.meta.withXattrs(x);
                }
            }
        }
    }

    private static void collect(Node n, String path, List<InodeData> inodes, List<String> paths, java.util.Set<InodeData> seen) {
        if (seen.add(n.inode)) {
            inodes.add(n.inode);
            paths.add(path);
        }
        if (n.children != null) {
            String prefix = path.equals("/") ? "/" : path + "/";
            for (Node c : n.children.values()) {
                collect(c, prefix + new String(c.name, StandardCharsets.UTF_8), inodes, paths, seen);
            }
        }
    }

    private static int fileType(int kind) {
        return switch (kind) {
            case Inode.DIR -> EntryAttributes.S_IFDIR;
            case Inode.FILE -> EntryAttributes.S_IFREG;
            case Inode.SYMLINK -> EntryAttributes.S_IFLNK;
            case Inode.BLKDEV -> EntryAttributes.S_IFBLK;
            case Inode.CHRDEV -> EntryAttributes.S_IFCHR;
            case Inode.FIFO -> EntryAttributes.S_IFIFO;
            case Inode.SOCKET -> EntryAttributes.S_IFSOCK;
            default -> throw new IllegalStateException("inode kind " + kind);
        };
    }

    private void put(Node parent, Node child) {
        child.parent = parent;
        Node old = parent.children.put(new Name(child.name), child);
        if (old != null && old.inode.kind == Inode.DIR && child.inode.kind == Inode.DIR) {
            child.children.putAll(old.children);
            for (Node c : child.children.values()) {
                c.parent = child;
            }
        }
    }

    private Node parentOf(byte[][] names) throws FormatException {
        Node n = root;
        for (int i = 0; i < names.length - 1; i++) {
            Node c = n.children.get(new Name(names[i]));
            if (c == null) {
                EntryMetadata m = EntryMetadata.of(0755, 0, 0, options.forcedMtime() != null ? options.forcedMtime() : 0);
                c = Node.directory(names[i], n, m);
                c.implicit = true;
                n.children.put(new Name(names[i]), c);
            } else if (c.inode.kind != Inode.DIR) {
                throw new FormatException("path", new String(names[i], StandardCharsets.UTF_8), "a path component is not a directory");
            }
            n = c;
        }
        return n;
    }

    private Node find(String path) {
        byte[][] names;
        try {
            names = split(path);
        } catch (IllegalArgumentException | FormatException e) {
            return null;
        }
        Node n = root;
        for (byte[] name : names) {
            if (n.children == null) {
                return null;
            }
            n = n.children.get(new Name(name));
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    /** Splits a relative path ("a/b", "./a/b", "/a/b") into checked name components. */
    static byte[][] split(String path) throws FormatException {
        List<byte[]> parts = new ArrayList<>();
        for (String p : path.split("/", -1)) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                throw new FormatException("path", path, "'..' is not allowed in an image path");
            }
            byte[] b = p.getBytes(StandardCharsets.UTF_8);
            if (b.length > 256) {
                throw new FormatException("path", path, "a name is longer than 256 bytes");
            }
            for (byte x : b) {
                if (x == 0) {
                    throw new FormatException("path", path, "a name contains NUL");
                }
            }
            parts.add(b);
        }
        return parts.toArray(new byte[0][]);
    }

    private void checkOpen() {
        if (finished || closed) {
            throw new IllegalStateException("writer already finished");
        }
    }

    // ---------------------------------------------------------------- content pipeline

    private FileData writeContent(InputStream in, long expectedSize) throws IOException {
        FileData f = new FileData();
        sha256.reset();
        long size = 0;
        // With duplicate detection on, the first blocks of a file are held back until its digest
        // is known, so a duplicate of up to HOLD bytes is never compressed (mksquashfs compresses
        // duplicates and then drops them). Longer files stream, and a duplicate's copy is dropped.
        // A file the plan says no other has the size of is neither digested nor held back.
        List<byte[]> held = new ArrayList<>();
        boolean presumedUnique = options.duplicates() && presumedUnique(expectedSize);
        boolean digesting = options.duplicates() && !presumedUnique;
        boolean streaming = !options.duplicates() || presumedUnique;
        byte[] buf = new byte[blockSize];
        while (true) {
            int n = in.readNBytes(buf, 0, blockSize);
            if (n <= 0) {
                break;
            }
            size += n;
            progress.accept(n);
            for (MessageDigest md : contentDigests) {
                md.update(buf, 0, n);
            }
            if (digesting) {
                sha256.update(buf, 0, n);
            }
            if (n < blockSize) {
                // tail: kept for the fragment decision at the end of the file
                f.tail = Arrays.copyOf(buf, n);
                break;
            }
            if (!streaming && (long) (held.size() + 1) * blockSize > HOLD) {
                streaming = true;
                for (byte[] h : held) {
                    submitBlock(f, h, blockSize);
                }
                held.clear();
            }
            if (streaming) {
                submitBlock(f, buf, n);
            } else {
                held.add(buf);
            }
            buf = new byte[blockSize];
        }
        f.size = size;
        inputBytes += size;
        // an all-zero tail is a hole, never fragment data (mksquashfs process_fragments: checksum_sparse)
        boolean tailInFragment = f.tail != null && options.fragments()
                && (size < blockSize || options.alwaysUseFragments())
                && !(options.sparse() && Arrays.mismatch(f.tail, 0, f.tail.length, ZERO, 0, f.tail.length) == -1);
        FileData dup = null;
        if (options.duplicates() && size > 0) {
            byte[] digest = null;
            if (digesting) {
                digest = sha256.digest();
                digestedFiles++;
            } else if (size != expectedSize || sizeStored(size)) {
                // the plan was wrong about this file: digest what was read after all
                digest = digestOf(f, held, !streaming);
            }
            if (digest == null) {
                undigested.put(size, f);
            } else {
                FileData earlier = undigested.remove(size);
                if (earlier != null) {
                    // an earlier file of this size was stored without a digest: take it from the image
                    byContent.put(new DedupKey(size, digestOf(earlier, List.of(), false)), earlier);
                }
                DedupKey key = new DedupKey(size, digest);
                dup = byContent.get(key);
                if (dup == null) {
                    byContent.put(key, f);
                    digestedSizes.add(size);
                }
            }
        }
        if (dup == null || streaming) {
            for (byte[] h : held) {
                submitBlock(f, h, blockSize);
            }
            if (f.tail != null && !tailInFragment) {
                submitBlock(f, f.tail, f.tail.length);
                f.tail = null;
            }
        }
        if (dup != null && !streaming) {
            for (byte[] h : held) {
                if (options.sparse() && Arrays.mismatch(h, 0, blockSize, ZERO, 0, blockSize) == -1) {
                    sparseBytes += blockSize; // counted as when the copy was written and dropped
                }
            }
        }
        if (dup != null) {
            f.tail = null;
            duplicateFiles++;
            duplicateBytes += size;
        } else if (tailInFragment) {
            addToFragment(f);
        }
        enqueue(new Item.FileEnd(f, dup));
        return f;
    }

    /** True when the plan has exactly one file of {@code expectedSize} and no file of that size was stored yet. */
    private boolean presumedUnique(long expectedSize) {
        if (plannedSizes == null || expectedSize <= 0 || sizeStored(expectedSize)) {
            return false;
        }
        Integer planned = plannedSizes.get(expectedSize);
        return planned != null && planned == 1;
    }

    private boolean sizeStored(long size) {
        return digestedSizes.contains(size) || undigested.containsKey(size);
    }

    /**
     * The SHA-256 of the content of {@code f} (its {@link FileData#size} known): the blocks it has
     * in the image, then {@code held} (blocks not handed on yet), then its tail (in memory, in the
     * open fragment block or in a fragment block of the image). With {@code heldOnly} nothing of
     * it has gone to the queue yet; otherwise the queue is written out first, so its blocks can be
     * read back.
     */
    private byte[] digestOf(FileData f, List<byte[]> held, boolean heldOnly) throws IOException {
        if (!heldOnly) {
            drain();
        }
        digestedFiles++;
        MessageDigest md = sha256;
        md.reset();
        long remaining = f.size;
        long at = f.start;
        byte[] plain = null;
        Codec.Decompressor decompressor = null;
        for (int i = 0; i < f.blocks.size(); i++) {
            int word = f.blocks.get(i);
            int len = (int) Math.min(blockSize, remaining);
            if (word == 0) {
                md.update(ZERO, 0, len);
            } else {
                int stored = word & 0xFF_FFFF;
                byte[] raw = readAt(at, stored);
                at += stored;
                if ((word & (1 << 24)) != 0) {
                    md.update(raw, 0, stored);
                } else {
                    if (decompressor == null) {
                        decompressor = Codec.decompressor(options.compression(), blockSize);
                        plain = new byte[blockSize];
                    }
                    int n = decompressor.decompress(raw, 0, stored, plain);
                    if (n != len) {
                        throw new IllegalStateException("block " + i + " of a file read back as " + n + " bytes, not " + len);
                    }
                    md.update(plain, 0, n);
                }
            }
            remaining -= len;
        }
        for (byte[] h : held) {
            md.update(h, 0, blockSize);
            remaining -= blockSize;
        }
        if (remaining > 0) {
            int len = Math.toIntExact(remaining);
            if (f.tail != null) {
                md.update(f.tail, 0, len);
            } else if (f.fragmentIndex == fragmentCount) {
                md.update(fragment, f.fragmentOffset, len);
            } else {
                long[] e = fragmentEntries.get(Math.toIntExact(f.fragmentIndex));
                int word = (int) e[1];
                int stored = word & 0xFF_FFFF;
                byte[] raw = readAt(e[0], stored);
                if ((word & (1 << 24)) != 0) {
                    md.update(raw, f.fragmentOffset, len);
                } else {
                    byte[] block = new byte[blockSize];
                    int n = Codec.decompressor(options.compression(), blockSize).decompress(raw, 0, stored, block);
                    if (n < f.fragmentOffset + len) {
                        throw new IllegalStateException("fragment block read back as " + n + " bytes, the tail ends at "
                                + (f.fragmentOffset + len));
                    }
                    md.update(block, f.fragmentOffset, len);
                }
            }
        }
        return md.digest();
    }

    private byte[] readAt(long at, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            if (out.read(b, at + b.position()) < 0) {
                throw new java.io.EOFException("image ends at " + (at + b.position()) + " while reading back a block");
            }
        }
        return b.array();
    }

    /** Data and fragment blocks handed to the compressors so far (for tests). */
    long compressionJobs() {
        return compressionJobs;
    }

    private void submitBlock(FileData f, byte[] buf, int n) throws IOException {
        if (options.sparse() && Arrays.mismatch(buf, 0, n, ZERO, 0, n) == -1) {
            sparseBytes += n;
            enqueue(new Item.Sparse(f, n));
            return;
        }
        compressionJobs++;
        Future<byte[]> c = workers.submit(() -> compressors.get().compress(buf, 0, n));
        enqueue(new Item.Block(f, c, buf, n));
    }

    private void addToFragment(FileData f) throws IOException {
        int len = f.tail.length;
        if (fragmentFill + len > blockSize) {
            sealFragment();
        }
        System.arraycopy(f.tail, 0, fragment, fragmentFill, len);
        f.fragmentIndex = fragmentCount;
        f.fragmentOffset = fragmentFill;
        fragmentFill += len;
        f.tail = null;
    }

    private void sealFragment() throws IOException {
        if (fragmentFill == 0) {
            return;
        }
        byte[] buf = fragment;
        int n = fragmentFill;
        compressionJobs++;
        Future<byte[]> c = workers.submit(() -> compressors.get().compress(buf, 0, n));
        enqueue(new Item.Fragment(fragmentCount, c, buf, n));
        fragmentCount++;
        fragment = new byte[blockSize];
        fragmentFill = 0;
    }

    /**
     * Appends to the in-order queue, then writes from its head while the workers' backlog is
     * full. Only compression jobs count against {@link #maxJobs}: the bookkeeping items between
     * them (a file's end, a sparse block) are tiny, and counting them would stall the workers in
     * trees of small files, where dozens of files share one fragment block (at most
     * {@link #MAX_ITEMS} of them are kept).
     */
    private void enqueue(Item item) throws IOException {
        queue.addLast(item);
        if (item instanceof Item.Block || item instanceof Item.Fragment) {
            queuedJobs++;
        }
        while (queuedJobs > maxJobs || queue.size() > MAX_ITEMS) {
            writeNext();
        }
    }

    private void drain() throws IOException {
        while (!queue.isEmpty()) {
            writeNext();
        }
    }

    private void writeNext() throws IOException {
        Item item = queue.removeFirst();
        if (item instanceof Item.Block || item instanceof Item.Fragment) {
            queuedJobs--;
        }
        if (item instanceof Item.Block b) {
            FileData f = b.file();
            if (f.start < 0) {
                f.start = pos;
            }
            byte[] c = await(b.compressed());
            if (c == null) {
                writeAt(b.raw(), 0, b.length());
                f.blocks.add(b.length() | (1 << 24));
            } else {
                writeAt(c, 0, c.length);
                f.blocks.add(c.length);
            }
        } else if (item instanceof Item.Sparse s) {
            FileData f = s.file();
            f.blocks.add(0);
            f.sparse += s.length();
        } else if (item instanceof Item.Fragment fr) {
            byte[] c = await(fr.compressed());
            long start = pos;
            int word;
            if (c == null) {
                writeAt(fr.raw(), 0, fr.length());
                word = fr.length() | (1 << 24);
            } else {
                writeAt(c, 0, c.length);
                word = c.length;
            }
            fragmentEntries.add(new long[] {start, Integer.toUnsignedLong(word)});
        } else if (item instanceof Item.FileEnd e) {
            FileData f = e.file();
            if (e.duplicateOf() != null) {
                if (f.start >= 0) {
                    pos = f.start; // drop the copy just written; later writes overwrite it
                }
                f.duplicateOf = e.duplicateOf();
            } else if (f.start < 0) {
                f.start = f.blocks.size() == 0 ? 0 : pos;
            }
        }
    }

    private static byte[] await(Future<byte[]> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing");
        } catch (ExecutionException e) {
            throw dev.cairn.io.Futures.unwrap(e);
        }
    }

    private void writeAt(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
            pos += out.write(buf, pos);
        }
    }

    // ---------------------------------------------------------------- tables

    /** Writes all tables and the superblock; the channel then holds the complete image. */
    public SquashfsResult finish() throws IOException {
        if (finished) {
            throw new IllegalStateException("finish() already called");
        }
        checkOpen();
        finished = true;
        try {
            sealFragment();
            drain();
            applyEntryAttributes();
            long dataEnd = pos;
            return writeTables(dataEnd);
        } finally {
            workers.shutdownNow();
        }
    }

    private SquashfsResult writeTables(long dataEnd) throws IOException {
        Codec.Compressor mc = options.compressMetadata() ? codec.newCompressor() : (src, off, len) -> null;
        // 1. inode numbers: pre-order over the sorted tree, root last
        List<InodeData> order = new ArrayList<>();
        number(root, order);
        long inodeCount = order.size();
        for (InodeData i : order) {
            if (i.kind == Inode.DIR) {
                i.nlink = 2;
            }
        }
        countSubdirectories(root);
        // 2. inode and directory tables, post-order; ids and xattr sets numbered as inodes are written (as mksquashfs)
        Map<Long, Integer> ids = new LinkedHashMap<>();
        XattrTable xattrs = new XattrTable(mc);
        tableIds = ids;
        tableXattrs = xattrs;
        MetadataWriter inodes = new MetadataWriter(mc);
        MetadataWriter dirs = new MetadataWriter(mc);
        writeTree(root, inodes, dirs, inodeCount);
        if (ids.size() > 0xFFFF) {
            throw new FormatException("ids", ids.size(), "more than 65535 distinct uids/gids");
        }
        byte[] inodeTable = inodes.finish();
        byte[] dirTable = dirs.finish();
        long inodeStart = dataEnd;
        long dirStart = inodeStart + inodeTable.length;
        long p = dirStart + dirTable.length;
        // 4. fragment table
        ByteBuffer fe = ByteBuffer.allocate(fragmentEntries.size() * 16).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] e : fragmentEntries) {
            fe.putLong(e[0]).putInt((int) e[1]).putInt(0);
        }
        byte[][] frag = MetadataWriter.lookupTable(fe.array(), mc, p);
        long fragTable = p + frag[0].length;
        p = fragTable + frag[1].length;
        // 5. export table
        byte[][] export = null;
        long exportTable = Superblock.ABSENT;
        if (options.exportable()) {
            ByteBuffer ex = ByteBuffer.allocate(Math.toIntExact(inodeCount * 8)).order(ByteOrder.LITTLE_ENDIAN);
            for (InodeData i : order) {
                ex.putLong(i.ref);
            }
            export = MetadataWriter.lookupTable(ex.array(), mc, p);
            exportTable = p + export[0].length;
            p = exportTable + export[1].length;
        }
        // 6. id table
        ByteBuffer idb = ByteBuffer.allocate(ids.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (Long id : ids.keySet()) {
            idb.putInt((int) (long) id);
        }
        byte[][] idt = MetadataWriter.lookupTable(idb.array(), mc, p);
        long idTable = p + idt[0].length;
        p = idTable + idt[1].length;
        // 7. xattr tables
        byte[] xattrBytes = null;
        long xattrTable = Superblock.ABSENT;
        if (xattrs.count() > 0) {
            XattrTable.Layout l = xattrs.layout(p);
            xattrBytes = l.bytes();
            xattrTable = l.idTableStart();
        }
        // write everything after the data
        pos = dataEnd;
        writeAt(inodeTable, 0, inodeTable.length);
        writeAt(dirTable, 0, dirTable.length);
        writeAt(frag[0], 0, frag[0].length);
        writeAt(frag[1], 0, frag[1].length);
        if (export != null) {
            writeAt(export[0], 0, export[0].length);
            writeAt(export[1], 0, export[1].length);
        }
        writeAt(idt[0], 0, idt[0].length);
        writeAt(idt[1], 0, idt[1].length);
        if (xattrBytes != null) {
            writeAt(xattrBytes, 0, xattrBytes.length);
        }
        long bytesUsed = pos;
        long padded = (bytesUsed + 4095) / 4096 * 4096;
        if (padded > bytesUsed) {
            writeAt(new byte[(int) (padded - bytesUsed)], 0, (int) (padded - bytesUsed));
        }
        out.truncate(padded);
        int flags = Superblock.DUPLICATES * (options.duplicates() ? 1 : 0)
                | Superblock.EXPORTABLE * (options.exportable() ? 1 : 0)
                | Superblock.NO_FRAG * (options.fragments() ? 0 : 1)
                | Superblock.ALWAYS_FRAG * (options.alwaysUseFragments() ? 1 : 0)
                | Superblock.NO_XATTRS * (options.xattrs() ? 0 : 1)
                | Superblock.COMP_OPT * (codec.options() != null ? 1 : 0)
                | (options.compressMetadata() ? 0 : Superblock.NOI | Superblock.NOF | Superblock.NOX | Superblock.NOID);
        Superblock sb = new Superblock(inodeCount, options.mkfsTime(), blockSize, fragmentEntries.size(),
                options.compression(), Integer.numberOfTrailingZeros(blockSize), flags, ids.size(), root.inode.ref,
                bytesUsed, idTable, xattrTable, inodeStart, dirStart, fragTable, exportTable);
        Checked.u32("inodes", inodeCount);
        byte[] sbBytes = sb.encode();
        ByteBuffer sbuf = ByteBuffer.wrap(sbBytes);
        long at = 0;
        while (sbuf.hasRemaining()) {
            at += out.write(sbuf, at);
        }
        // no fsync here: durability is the caller's choice (cairn's AtomicOutput syncs once before its rename)
        return new SquashfsResult(bytesUsed, padded, inodeCount, fragmentEntries.size(), ids.size(), xattrs.count(),
                inputBytes, dataEnd - Superblock.SIZE, duplicateFiles, duplicateBytes, sparseBytes, List.copyOf(warnings));
    }

    /**
     * Numbers inodes as mksquashfs does: a pre-order walk of the sorted tree (each entry when its
     * directory lists it, a subdirectory's entries right after it), hard links sharing the first
     * number, and the root last.
     */
    private static void number(Node dir, List<InodeData> order) {
        for (Node c : dir.children.values()) {
            if (c.inode.number == 0) {
                c.inode.number = order.size() + 1;
                order.add(c.inode);
            }
            if (c.inode.kind == Inode.DIR) {
                number(c, order);
            } else {
                c.inode.nlink++;
            }
        }
        if (dir.parent == null) {
            dir.inode.number = order.size() + 1;
            order.add(dir.inode);
        }
    }

    private static void countSubdirectories(Node dir) {
        for (Node c : dir.children.values()) {
            if (c.inode.kind == Inode.DIR) {
                dir.inode.nlink++;
                countSubdirectories(c);
            }
        }
    }

    private void writeTree(Node dir, MetadataWriter inodes, MetadataWriter dirs, long inodeCount) throws IOException {
        for (Node c : dir.children.values()) {
            if (c.inode.kind == Inode.DIR) {
                writeTree(c, inodes, dirs, inodeCount);
            } else if (!c.inode.written) {
                writeInode(c.inode, inodes);
            }
        }
        // The listing, split into runs as mksquashfs does: a new header after 256 entries, when
        // the inodes move to another metadata block, when the inode number delta leaves int16, and
        // (recorded in the directory index) when 8 KiB of listing have passed since the last index point.
        long listingStart = dirs.position();
        long startBlock = dirs.blockStart();
        int startOffset = dirs.offsetInBlock();
        Listing listingBytes = new Listing();
        List<long[]> indexAt = new ArrayList<>(); // {listing offset}
        List<byte[]> indexNames = new ArrayList<>();
        long indexBase = 0;
        int headerAt = -1;
        int count = 0;
        long chunk = -1;
        long base = 0;
        long byteCount = 0;
        for (Node e : dir.children.values()) {
            long eChunk = e.inode.ref >>> 16;
            long delta = e.inode.number - base;
            int entrySize = 8 + e.name.length;
            byteCount += entrySize;
            boolean crossing = headerAt >= 0 && listingBytes.size() + entrySize - indexBase > MetadataWriter.BLOCK;
            if (headerAt < 0 || count == 256 || eChunk != chunk || delta < Short.MIN_VALUE || delta > Short.MAX_VALUE || crossing) {
                if (headerAt >= 0) {
                    patchCount(listingBytes, headerAt, count);
                    if (crossing) {
                        indexAt.add(new long[] {listingBytes.size()});
                        indexNames.add(e.name);
                        indexBase = listingBytes.size();
                    }
                }
                headerAt = listingBytes.size();
                chunk = eChunk;
                base = e.inode.number;
                count = 0;
                ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                h.putInt(0).putInt(Checked.u32("inode start block", chunk)).putInt(Checked.u32("inode number", base));
                listingBytes.writeBytes(h.array());
            }
            // an entry's type is the basic inode type, which is what InodeData.kind holds (1..7)
            ByteBuffer b = ByteBuffer.allocate(entrySize).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) (e.inode.ref & 0xFFFF)).putShort((short) (e.inode.number - base))
                    .putShort((short) e.inode.kind).putShort((short) (e.name.length - 1)).put(e.name);
            listingBytes.writeBytes(b.array());
            count++;
        }
        if (headerAt >= 0) {
            patchCount(listingBytes, headerAt, count);
        }
        byte[] listingArray = listingBytes.toByteArray();
        List<Inode.DirIndex> index = new ArrayList<>();
        int written = 0;
        for (int k = 0; k < indexAt.size(); k++) {
            int at = Math.toIntExact(indexAt.get(k)[0]);
            dirs.write(listingArray, written, at - written);
            written = at;
            index.add(new Inode.DirIndex(at, dirs.blockStart(), indexNames.get(k)));
        }
        dirs.write(listingArray, written, listingArray.length - written);
        dir.inode.largeDirectory = dir.children.size() >= 257 || byteCount >= MetadataWriter.BLOCK;
        long listing = dirs.position() - listingStart;
        InodeData d = dir.inode;
        d.dirStartBlock = startBlock;
        d.dirOffset = startOffset;
        d.dirSize = listing + 3;
        d.dirIndex = index;
        d.parentNumber = dir.parent == null ? inodeCount + 1 : dir.parent.inode.number;
        writeInode(d, inodes);
    }

    private static void patchCount(Listing listing, int headerAt, int count) {
        ByteBuffer.wrap(listing.buf).order(ByteOrder.LITTLE_ENDIAN).putInt(headerAt, count - 1);
    }

    /** A growable byte array with random access for back-patching header counts. */
    private static final class Listing {
        byte[] buf = new byte[256];
        int size;

        int size() {
            return size;
        }

        void writeBytes(byte[] b) {
            if (size + b.length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + b.length));
            }
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }
    }

    private void writeInode(InodeData i, MetadataWriter inodes) throws IOException {
        i.uidIdx = tableIds.computeIfAbsent(i.meta.uid(), k -> tableIds.size());
        i.gidIdx = tableIds.computeIfAbsent(i.meta.gid(), k -> tableIds.size());
        i.xattr = tableXattrs.add(i.meta.xattrs());
        i.ref = inodes.ref();
        i.written = true;
        inodes.write(inodeOf(i).encode());
    }

    /** The on-disk record for an inode (basic unless the fields need the extended form). */
    private Inode inodeOf(InodeData i) throws FormatException {
        boolean xattr = i.xattr != Inode.NO_XATTR;
        EntryMetadata m = i.meta;
        int type;
        switch (i.kind) {
            case Inode.DIR -> {
                boolean ext = xattr || i.largeDirectory || !i.dirIndex.isEmpty() || i.dirSize > 0xFFFF;
                type = ext ? Inode.LDIR : Inode.DIR;
                return new Inode.Directory(header(i, type), Checked.unsigned(Checked.u32("directory start", i.dirStartBlock)),
                        Checked.unsigned(Checked.u32("nlink", i.nlink)), Checked.unsigned(Checked.u32("directory size", i.dirSize)),
                        i.dirOffset, i.parentNumber, i.xattr, i.dirIndex);
            }
            case Inode.FILE -> {
                FileData f = i.data.duplicateOf != null ? i.data.duplicateOf : i.data;
                long size = i.data.size;
                // mksquashfs write_file_blocks: no sparse count for a file stored densely in the source
                long sparse = f.denseSource ? 0 : f.sparse >= size && size > 0 ? size - 1 : f.sparse;
                boolean ext = xattr || i.nlink > 1 || size > 0xFFFF_FFFFL || f.start > 0xFFFF_FFFFL || sparse > 0;
                type = ext ? Inode.LREG : Inode.FILE;
                long frag = f.fragmentIndex < 0 ? Inode.NO_FRAGMENT : f.fragmentIndex;
                long off = f.fragmentIndex < 0 ? 0 : f.fragmentOffset;
                return new Inode.File(header(i, type), f.start, size, sparse, i.nlink, frag, off, i.xattr, f.blocks.toArray());
            }
            case Inode.SYMLINK -> {
                return new Inode.Symlink(header(i, xattr ? Inode.LSYMLINK : Inode.SYMLINK), i.nlink, i.target, i.xattr);
            }
            case Inode.BLKDEV, Inode.CHRDEV -> {
                return new Inode.Device(header(i, xattr ? i.kind + 7 : i.kind), i.nlink, i.rdev, i.xattr);
            }
            default -> {
                return new Inode.Ipc(header(i, xattr ? i.kind + 7 : i.kind), i.nlink, i.xattr);
            }
        }
    }

    private static Inode.Header header(InodeData i, int type) throws FormatException {
        return new Inode.Header(type, i.meta.mode(), i.uidIdx, i.gidIdx, Checked.unsigned(Checked.u32("mtime", i.meta.mtime())),
                Checked.unsigned(Checked.u32("inode number", i.number)));
    }

    static int xattrPrefix(String name) {
        if (name.startsWith("user.") && name.length() > 5) {
            return 0;
        }
        if (name.startsWith("trusted.") && name.length() > 8) {
            return 1;
        }
        if (name.startsWith("security.") && name.length() > 9) {
            return 2;
        }
        throw new IllegalArgumentException("SquashFS stores only user., trusted. and security. extended attributes, not " + name);
    }

    @Override
    public void close() {
        closed = true;
        workers.shutdownNow();
    }

    // ---------------------------------------------------------------- model

    /** A name compared by unsigned bytes, like the kernel's strcmp. */
    record Name(byte[] bytes) implements Comparable<Name> {
        @Override
        public int compareTo(Name o) {
            return Arrays.compareUnsigned(bytes, o.bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Name n && Arrays.equals(bytes, n.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    private static final class Node {
        final byte[] name;
        final InodeData inode;
        Node parent;
        TreeMap<Name, Node> children;
        boolean implicit;

        Node(byte[] name, InodeData inode) {
            this.name = name;
            this.inode = inode;
        }

        static Node directory(byte[] name, Node parent, EntryMetadata meta) {
            Node n = new Node(name, new InodeData(Inode.DIR, meta));
            n.parent = parent;
            n.children = new TreeMap<>();
            return n;
        }
    }

    private static final class InodeData {
        final int kind;
        EntryMetadata meta;
        FileData data;
        byte[] target;
        long rdev;
        long nlink;
        long number;
        long ref;
        boolean written;
        int uidIdx;
        int gidIdx;
        long xattr = Inode.NO_XATTR;
        /** Content digests of a regular file, one per {@code digestAlgorithms} entry (null: none asked for). */
        byte[][] digests;
        long dirStartBlock;
        int dirOffset;
        long dirSize;
        List<Inode.DirIndex> dirIndex = List.of();
        long parentNumber;
        boolean largeDirectory;

        InodeData(int kind, EntryMetadata meta) {
            this.kind = kind;
            this.meta = meta;
        }
    }

    private static final class FileData {
        long size;
        long start = -1;
        final IntList blocks = new IntList();
        long fragmentIndex = -1;
        int fragmentOffset;
        long sparse;
        /** The source file occupies at least its size on disk (not sparse there). */
        boolean denseSource;
        byte[] tail;
        FileData duplicateOf;
    }

    private record DedupKey(long size, byte[] sha256) {
        @Override
        public boolean equals(Object o) {
            return o instanceof DedupKey k && k.size == size && Arrays.equals(k.sha256, sha256);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(sha256);
        }
    }

    private sealed interface Item {
        record Block(FileData file, Future<byte[]> compressed, byte[] raw, int length) implements Item {
        }

        record Sparse(FileData file, int length) implements Item {
        }

        record Fragment(long index, Future<byte[]> compressed, byte[] raw, int length) implements Item {
        }

        record FileEnd(FileData file, FileData duplicateOf) implements Item {
        }
    }

    /** A growable int array (block size lists of multi-GiB files). */
    static final class IntList {
        private int[] a = new int[4];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        int get(int i) {
            return a[i];
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    /** Extended attribute sets: key/value metadata blocks and the id table that indexes them. */
    private static final class XattrTable {
        private final MetadataWriter kv;
        private final Map<String, Integer> sets = new HashMap<>();
        private final List<long[]> ids = new ArrayList<>(); // {ref, count, size}
        private final Map<String, Long> values = new HashMap<>();
        private final Codec.Compressor compressor;

        XattrTable(Codec.Compressor c) {
            this.compressor = c;
            this.kv = new MetadataWriter(c);
        }

        int count() {
            return ids.size();
        }

        private static byte[] shortName(String fullName) {
            return fullName.substring(fullName.indexOf('.') + 1).getBytes(StandardCharsets.UTF_8);
        }

        long add(SortedMap<String, byte[]> x) throws IOException {
            if (x.isEmpty()) {
                return Inode.NO_XATTR;
            }
            StringBuilder key = new StringBuilder();
            for (Map.Entry<String, byte[]> e : x.entrySet()) {
                key.append(e.getKey()).append('\0').append(java.util.HexFormat.of().formatHex(e.getValue())).append('\0');
            }
            Integer known = sets.get(key.toString());
            if (known != null) {
                return known;
            }
            // mksquashfs' layout: values longer than 128 bytes (less while the set's listing exceeds
            // 64 KiB) and repeats of values of 8 bytes or more are stored out of line; new
            // out-of-line values precede the set's own records.
            List<Map.Entry<String, byte[]>> pairs = new ArrayList<>(x.entrySet());
            int n = pairs.size();
            boolean[] ool = new boolean[n];
            int threshold = 128;
            while (true) {
                long total = 0;
                for (int i = 0; i < n; i++) {
                    byte[] v = pairs.get(i).getValue();
                    ool[i] = v.length > threshold;
                    total += 8 + shortName(pairs.get(i).getKey()).length + (ool[i] ? 8 : v.length);
                }
                if (total <= 65536 || threshold == 8) {
                    break;
                }
                threshold = Math.max(8, threshold / 2);
            }
            Long[] valueRef = new Long[n];
            for (int i = 0; i < n; i++) {
                byte[] v = pairs.get(i).getValue();
                if (v.length >= 8) {
                    Long earlier = values.get(java.util.HexFormat.of().formatHex(v));
                    if (earlier != null) {
                        ool[i] = true;
                        valueRef[i] = earlier;
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                if (ool[i] && valueRef[i] == null) {
                    byte[] v = pairs.get(i).getValue();
                    valueRef[i] = kv.ref();
                    kv.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v.length).array());
                    kv.write(v);
                    values.put(java.util.HexFormat.of().formatHex(v), valueRef[i]);
                }
            }
            long ref = kv.ref();
            long size = 0;
            for (int i = 0; i < n; i++) {
                String fullName = pairs.get(i).getKey();
                byte[] name = shortName(fullName);
                byte[] v = pairs.get(i).getValue();
                ByteBuffer h = ByteBuffer.allocate(4 + name.length).order(ByteOrder.LITTLE_ENDIAN);
                h.putShort((short) (xattrPrefix(fullName) | (ool[i] ? 0x100 : 0)))
                        .putShort((short) Checked.u16("xattr name", name.length)).put(name);
                kv.write(h.array());
                if (ool[i]) {
                    kv.write(ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(8).putLong(valueRef[i]).array());
                } else {
                    long at = kv.ref();
                    kv.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v.length).array());
                    kv.write(v);
                    if (v.length >= 8) {
                        values.putIfAbsent(java.util.HexFormat.of().formatHex(v), at);
                    }
                }
                // as mksquashfs: the listxattr() size of the set (full name + NUL) plus the values
                size += fullName.getBytes(StandardCharsets.UTF_8).length + 1 + v.length;
            }
            int id = ids.size();
            ids.add(new long[] {ref, x.size(), size});
            sets.put(key.toString(), id);
            return id;
        }

        record Layout(byte[] bytes, long idTableStart) {
        }

        /** kv blocks at {@code start}, then the id entries' blocks, then the header and index. */
        Layout layout(long start) throws IOException {
            byte[] kvBytes = kv.finish();
            ByteBuffer e = ByteBuffer.allocate(ids.size() * 16).order(ByteOrder.LITTLE_ENDIAN);
            for (long[] i : ids) {
                e.putLong(i[0]).putInt((int) i[1]).putInt((int) i[2]);
            }
            long idBlocksStart = start + kvBytes.length;
            byte[][] t = MetadataWriter.lookupTable(e.array(), compressor, idBlocksStart);
            long headerStart = idBlocksStart + t[0].length;
            ByteBuffer h = ByteBuffer.allocate(16 + t[1].length).order(ByteOrder.LITTLE_ENDIAN);
            h.putLong(start).putInt(ids.size()).putInt(0).put(t[1]);
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            all.write(kvBytes);
            all.write(t[0]);
            all.write(h.array());
            return new Layout(all.toByteArray(), headerStart);
        }
    }
}
