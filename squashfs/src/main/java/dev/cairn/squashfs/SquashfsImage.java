package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;

/**
 * Reads a SquashFS 4.0 image, treating it as hostile: every offset and length is checked against
 * the filesystem, metadata blocks expand to at most 8 KiB and data blocks to at most the block
 * size, directory listings must be sorted without duplicates or path separators, a directory
 * reached twice (a loop or a hard-linked directory) is an error, and no structure is allocated
 * larger than the image could describe.
 */
public final class SquashfsImage implements AutoCloseable {
    /** Largest directory listing read into memory (about a million entries). */
    static final long MAX_LISTING = 64L << 20;
    /** Most block-size entries in one file inode (16 TiB at 1 MiB blocks, 64 GiB at 4 KiB). */
    static final int MAX_BLOCKS = 1 << 24;
    /** Largest xattr value (Linux XATTR_SIZE_MAX). */
    static final int MAX_XATTR_VALUE = 65536;

    private final FileChannel channel;
    private final ImageChannel image;
    private final Superblock sb;
    private final Codec.Decompressor decompressor;
    private final MetadataReader inodes;
    private final MetadataReader directories;
    private final long[] ids;
    private final long imageSize;
    private final XattrReader xattrs;
    private final long fragmentIndexEnd;
    private final MetadataReader fragmentTable;

    private SquashfsImage(FileChannel channel, long imageSize) throws IOException {
        this.channel = channel;
        this.imageSize = imageSize;
        byte[] head = new byte[(int) Math.min(Superblock.SIZE, imageSize)];
        channel.read(java.nio.ByteBuffer.wrap(head), 0);
        this.sb = Superblock.decode(head, imageSize);
        this.image = new ImageChannel(channel, sb.bytesUsed());
        this.decompressor = Codec.decompressor(sb.compression(), sb.blockSize());
        this.inodes = new MetadataReader(image, decompressor, "inode table", sb.inodeTable(), sb.directoryTable());
        this.directories = new MetadataReader(image, decompressor, "directory table", sb.directoryTable(),
                nextTable(sb.directoryTable()));
        this.ids = readIds();
        this.fragmentIndexEnd = sb.fragmentTable() == Superblock.ABSENT ? 0 : nextTable(sb.fragmentTable());
        this.fragmentTable = sb.fragmentTable() == Superblock.ABSENT ? null
                : new MetadataReader(image, decompressor, "fragment table", 0, sb.fragmentTable());
        this.xattrs = sb.xattrIdTable() == Superblock.ABSENT ? null
                : new XattrReader(image, decompressor, sb.xattrIdTable(), sb.bytesUsed());
        if (sb.fragmentTable() != Superblock.ABSENT) {
            long need = (sb.fragments() * 16 + MetadataWriter.BLOCK - 1) / MetadataWriter.BLOCK * 8;
            if (need > fragmentIndexEnd - sb.fragmentTable()) {
                throw new FormatException(80, "fragment_table_start", sb.fragmentTable(),
                        sb.fragments() + " fragments do not fit the fragment index");
            }
        }
    }

    /** Opens {@code path}; a FormatException when it is not a readable SquashFS 4.0 image. */
    public static SquashfsImage open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new SquashfsImage(ch, ch.size());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Opens {@code path} and reads all of its metadata (every inode, directory and xattr); data blocks are not read. */
    public static void check(Path path) throws IOException {
        try (SquashfsImage img = open(path)) {
            img.walk(e -> {
                img.xattrs(e);
            });
        }
    }

    private long nextTable(long start) {
        long next = sb.bytesUsed();
        for (long t : new long[] {sb.inodeTable(), sb.directoryTable(), sb.fragmentTable(), sb.exportTable(),
                sb.idTable(), sb.xattrIdTable()}) {
            if (t != Superblock.ABSENT && t > start && t < next) {
                next = t;
            }
        }
        return next;
    }

    private long[] readIds() throws IOException {
        int n = sb.ids();
        int blocks = (n * 4 + MetadataWriter.BLOCK - 1) / MetadataWriter.BLOCK;
        long end = nextTable(sb.idTable());
        if (sb.idTable() + blocks * 8L > end) {
            throw new FormatException(48, "id_table_start", sb.idTable(), n + " ids do not fit the id index");
        }
        byte[] index = image.read(sb.idTable(), blocks * 8, "id index");
        long[] out = new long[n];
        MetadataReader r = new MetadataReader(image, decompressor, "id table", 0, sb.idTable());
        for (int b = 0; b < blocks; b++) {
            long at = dev.cairn.io.LittleEndian.u64(index, b * 8, "id index");
            if (at < sb.directoryTable() || at >= sb.idTable()) {
                throw new FormatException(sb.idTable() + b * 8L, "id index", at, "id block outside the metadata area");
            }
            MetadataReader.Cursor c = r.at(at, 0);
            for (int i = b * 2048; i < Math.min(n, (b + 1) * 2048); i++) {
                out[i] = c.u32();
            }
        }
        return out;
    }

    Superblock superblock() {
        return sb;
    }

    /** Size of the image file (≥ bytes used: padding and appended data such as a verity tree). */
    public long imageSize() {
        return imageSize;
    }

    /** Summary for {@code cairn squashfs info}. */
    public ImageInfo info() {
        List<String> flags = new ArrayList<>();
        String[] names = {"inodes-uncompressed", "data-uncompressed", "check", "fragments-uncompressed", "no-fragments",
                "always-fragments", "duplicates", "exportable", "xattrs-uncompressed", "no-xattrs", "compressor-options",
                "ids-uncompressed"};
        for (int i = 0; i < names.length; i++) {
            if ((sb.flags() & (1 << i)) != 0) {
                flags.add(names[i]);
            }
        }
        return new ImageInfo(sb.compression().label(), sb.blockSize(), sb.bytesUsed(), imageSize, sb.inodes(), sb.fragments(),
                sb.ids(), xattrs == null ? 0 : xattrs.count(), sb.mkfsTime(), sb.exportTable() != Superblock.ABSENT,
                List.copyOf(flags));
    }

    /** The root directory. */
    public SquashfsEntry root() throws IOException {
        return entry("", sb.rootInode(), Inode.DIR, true);
    }

    /** The entry at {@code path} (components separated by '/'); symlinks are not followed. */
    public SquashfsEntry lookup(String path) throws IOException {
        SquashfsEntry e = root();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (!e.isDirectory()) {
                throw new NoSuchFileException(path, null, "not a directory: " + e.path());
            }
            SquashfsEntry found = null;
            for (SquashfsEntry c : list(e)) {
                if (c.name().equals(part)) {
                    found = c;
                    break;
                }
            }
            if (found == null) {
                throw new NoSuchFileException(path, null, "no such entry in the image");
            }
            e = found;
        }
        return e;
    }

    /** Visits {@code from} and everything below it, pre-order, children sorted. */
    public void walk(SquashfsEntry from, Visitor v) throws IOException {
        Set<Long> seen = new HashSet<>();
        // Listings by location: distinct directory inodes sharing one listing would multiply the
        // walk (n inodes × m entries). mksquashfs never shares a listing; empty directories have
        // none (their location is wherever the next listing starts), so only non-empty ones count.
        Set<Long> listings = new HashSet<>();
        Deque<SquashfsEntry> stack = new ArrayDeque<>();
        stack.push(from);
        while (!stack.isEmpty()) {
            SquashfsEntry e = stack.pop();
            Inode.Directory d = null;
            if (e.isDirectory()) {
                d = (Inode.Directory) readInode(e.ref());
                if (!seen.add(e.ref()) || (d.fileSize() > 3 && !listings.add(d.startBlock() << 16 | d.offset()))) {
                    throw new FormatException("directory", e.path(), "directory reached twice (a loop or a hard-linked directory)");
                }
            }
            v.visit(e);
            if (d != null) {
                List<SquashfsEntry> kids = list(e, d);
                for (int i = kids.size() - 1; i >= 0; i--) {
                    stack.push(kids.get(i));
                }
            }
        }
    }

    /** Visits every entry of the image, pre-order. */
    public void walk(Visitor v) throws IOException {
        walk(root(), v);
    }

    /** Receives entries from {@link #walk}. */
    @FunctionalInterface
    public interface Visitor {
        void visit(SquashfsEntry e) throws IOException;
    }

    // ------------------------------------------------------------------ inodes

    private SquashfsEntry entry(String path, long ref, int expectedBasic, boolean root) throws IOException {
        // once per directory entry: a file's block list (up to 16M entries) is read only for its data
        Inode inode = readInode(ref, false);
        if (inode.basicType() != expectedBasic) {
            throw new FormatException("inode type", path, "directory entry says type " + expectedBasic
                    + " but the inode is type " + inode.header().type());
        }
        Inode.Header h = inode.header();
        long number = h.number();
        if (number == 0 || number > sb.inodes()) {
            throw new FormatException("inode number", path, "inode number " + number + " outside 1.." + sb.inodes());
        }
        long uid = id(h.uidIdx(), path);
        long gid = id(h.gidIdx(), path);
        if (h.mode() > 07777) {
            throw new FormatException("mode", path, "mode " + Integer.toOctalString(h.mode()) + " has file type bits");
        }
        SquashfsEntry.Type type = SquashfsEntry.Type.ofBasic(inode.basicType());
        long nlink;
        long size = 0;
        String target = null;
        int major = 0;
        int minor = 0;
        if (inode instanceof Inode.Directory d) {
            nlink = d.nlink();
            size = d.fileSize();
        } else if (inode instanceof Inode.File f) {
            nlink = f.nlink();
            size = f.fileSize();
        } else if (inode instanceof Inode.Symlink s) {
            nlink = s.nlink();
            size = s.target().length;
            target = new String(s.target(), StandardCharsets.UTF_8);
        } else if (inode instanceof Inode.Device d) {
            nlink = d.nlink();
            major = d.major();
            minor = d.minor();
        } else {
            nlink = ((Inode.Ipc) inode).nlink();
        }
        long x = inode.xattr();
        if (x != Inode.NO_XATTR && (xattrs == null || x >= xattrs.count())) {
            throw new FormatException("xattr index", path, "xattr index " + x + " outside the xattr table");
        }
        return new SquashfsEntry(path, type, h.mode(), uid, gid, h.mtime(), number, nlink, size, target, major, minor,
                x == Inode.NO_XATTR ? -1 : x, ref);
    }

    private long id(int idx, String path) throws FormatException {
        if (idx >= ids.length) {
            throw new FormatException("id index", path, "uid/gid index " + idx + " outside the " + ids.length + "-entry id table");
        }
        return ids[idx];
    }

    Inode readInode(long ref) throws IOException {
        return readInode(ref, true);
    }

    /** The inode at {@code ref}; without {@code blockList} a file's block sizes are not read (null). */
    private Inode readInode(long ref, boolean blockList) throws IOException {
        MetadataReader.Cursor c = inodes.at(ref);
        Inode.Header h = new Inode.Header(c.u16(), c.u16(), c.u16(), c.u16(), c.u32(), c.u32());
        int t = h.type();
        return switch (t) {
            case Inode.DIR -> {
                long start = c.u32();
                long nlink = c.u32();
                int size = c.u16();
                int off = c.u16();
                long parent = c.u32();
                yield new Inode.Directory(h, start, nlink, size, off, parent, Inode.NO_XATTR, List.of());
            }
            case Inode.LDIR -> {
                long nlink = c.u32();
                long size = c.u32();
                long start = c.u32();
                long parent = c.u32();
                int count = c.u16();
                int off = c.u16();
                long xattr = c.u32();
                // The index only speeds up lookups; it is skipped, never trusted.
                for (int i = 0; i < count; i++) {
                    c.skip(8);
                    long len = c.u32() + 1;
                    if (len > 256) {
                        throw new FormatException("directory index", ref, "index name longer than 256 bytes");
                    }
                    c.skip(len);
                }
                yield new Inode.Directory(h, start, nlink, size, off, parent, xattr, List.of());
            }
            case Inode.FILE, Inode.LREG -> {
                long start;
                long size;
                long sparse = 0;
                long nlink = 1;
                long frag;
                long fragOff;
                long xattr = Inode.NO_XATTR;
                if (t == Inode.FILE) {
                    start = c.u32();
                    frag = c.u32();
                    fragOff = c.u32();
                    size = c.u32();
                } else {
                    start = c.u64();
                    size = c.u64();
                    sparse = c.u64();
                    nlink = c.u32();
                    frag = c.u32();
                    fragOff = c.u32();
                    xattr = c.u32();
                }
                if (size < 0) {
                    throw new FormatException("file size", ref, "file size larger than 2^63");
                }
                long bs = sb.blockSize();
                long n = frag == Inode.NO_FRAGMENT ? (size + bs - 1) / bs : size / bs;
                if (n > MAX_BLOCKS) {
                    throw new FormatException("file size", size, "file has more than " + MAX_BLOCKS + " blocks");
                }
                int[] sizes = blockList ? blockList(c, (int) n, ref) : null;
                yield new Inode.File(h, start, size, sparse, nlink, frag, fragOff, xattr, sizes);
            }
            case Inode.SYMLINK, Inode.LSYMLINK -> {
                long nlink = c.u32();
                long len = c.u32();
                if (len == 0 || len > 4096) {
                    throw new FormatException("symlink size", ref, "symlink target must be 1..4096 bytes, not " + len);
                }
                byte[] target = c.bytes((int) len);
                long xattr = t == Inode.LSYMLINK ? c.u32() : Inode.NO_XATTR;
                yield new Inode.Symlink(h, nlink, target, xattr);
            }
            case Inode.BLKDEV, Inode.CHRDEV, Inode.LBLKDEV, Inode.LCHRDEV -> {
                long nlink = c.u32();
                long rdev = c.u32();
                long xattr = t > 7 ? c.u32() : Inode.NO_XATTR;
                yield new Inode.Device(h, nlink, rdev, xattr);
            }
            case Inode.FIFO, Inode.SOCKET, Inode.LFIFO, Inode.LSOCKET -> {
                long nlink = c.u32();
                long xattr = t > 7 ? c.u32() : Inode.NO_XATTR;
                yield new Inode.Ipc(h, nlink, xattr);
            }
            default -> throw new FormatException("inode type", t, "unknown inode type at reference " + Long.toHexString(ref));
        };
    }

    /** Reads {@code n} block size entries, refusing before allocating when the inode table cannot hold them. */
    private int[] blockList(MetadataReader.Cursor c, int n, long ref) throws IOException {
        if (n * 4L > inodes.maxRemaining(c)) {
            throw new FormatException("file size", ref, "block list of " + n + " entries runs past the inode table");
        }
        int[] sizes = new int[n];
        byte[] chunk = new byte[Math.min(n * 4, 1 << 16)];
        for (int i = 0; i < n;) {
            int k = Math.min(n - i, chunk.length / 4);
            c.read(chunk, 0, k * 4);
            java.nio.ByteBuffer.wrap(chunk, 0, k * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(sizes, i, k);
            i += k;
        }
        return sizes;
    }

    // ------------------------------------------------------------------ directories

    /** The entries of directory {@code dir}, in on-disk (sorted) order. */
    public List<SquashfsEntry> list(SquashfsEntry dir) throws IOException {
        if (!dir.isDirectory()) {
            throw new IllegalArgumentException(dir.path() + " is not a directory");
        }
        return list(dir, (Inode.Directory) readInode(dir.ref()));
    }

    private List<SquashfsEntry> list(SquashfsEntry dir, Inode.Directory d) throws IOException {
        long size = d.fileSize();
        if (size < 3) {
            throw new FormatException("directory size", dir.path(), "directory size " + size + " below the minimum 3");
        }
        long left = size - 3;
        if (left == 0) {
            return List.of();
        }
        if (left > MAX_LISTING) {
            throw new FormatException("directory size", dir.path(), "directory listing larger than " + MAX_LISTING + " bytes");
        }
        MetadataReader.Cursor c = directories.at(d.startBlock(), d.offset());
        List<SquashfsEntry> out = new ArrayList<>();
        byte[] previous = null;
        String prefix = dir.path().isEmpty() ? "" : dir.path() + "/";
        while (left > 0) {
            if (left < 12) {
                throw new FormatException("directory", dir.path(), "directory listing ends inside a header");
            }
            long count = c.u32() + 1;
            long startBlock = c.u32();
            long base = c.u32();
            left -= 12;
            if (count > 256) {
                throw new FormatException("directory", dir.path(), "directory header with " + count + " entries (at most 256)");
            }
            for (long i = 0; i < count; i++) {
                if (left < 8) {
                    throw new FormatException("directory", dir.path(), "directory listing ends inside an entry");
                }
                int offset = c.u16();
                short delta = c.s16();
                int type = c.u16();
                int nameLen = c.u16() + 1;
                left -= 8;
                if (nameLen > 256 || nameLen > left) {
                    throw new FormatException("directory", dir.path(), "entry name of " + nameLen + " bytes does not fit");
                }
                byte[] name = c.bytes(nameLen);
                left -= nameLen;
                checkName(name, dir.path());
                if (previous != null && Arrays.compareUnsigned(previous, name) >= 0) {
                    throw new FormatException("directory", dir.path(), "directory entries are not sorted or contain duplicates");
                }
                previous = name;
                if (type < 1 || type > 7) {
                    throw new FormatException("directory", dir.path(), "entry type " + type + " is not a basic inode type");
                }
                if (offset >= MetadataWriter.BLOCK || startBlock > 0xFFFF_FFFFL) {
                    throw new FormatException("directory", dir.path(), "entry inode offset outside its metadata block");
                }
                long number = base + delta;
                String childPath = prefix + new String(name, StandardCharsets.UTF_8);
                SquashfsEntry child = entry(childPath, (startBlock << 16) | offset, type, false);
                if (child.inodeNumber() != number) {
                    throw new FormatException("directory", childPath, "entry says inode " + number + " but the inode is "
                            + child.inodeNumber());
                }
                out.add(child);
            }
        }
        return Collections.unmodifiableList(out);
    }

    private static void checkName(byte[] name, String dir) throws FormatException {
        if ((name.length == 1 && name[0] == '.') || (name.length == 2 && name[0] == '.' && name[1] == '.')) {
            throw new FormatException("directory", dir, "entry named '.' or '..'");
        }
        for (byte b : name) {
            if (b == '/' || b == 0) {
                throw new FormatException("directory", dir, "entry name contains '/' or NUL");
            }
        }
    }

    // ------------------------------------------------------------------ xattrs

    /** Extended attributes of {@code e} by full name (empty when none). */
    public SortedMap<String, byte[]> xattrs(SquashfsEntry e) throws IOException {
        if (e.xattrIndex() < 0) {
            return Collections.emptySortedMap();
        }
        return xattrs.read(e.xattrIndex());
    }

    // ------------------------------------------------------------------ data

    /** The content of regular file {@code e}. */
    public InputStream open(SquashfsEntry e) throws IOException {
        if (e.type() != SquashfsEntry.Type.FILE) {
            throw new IllegalArgumentException(e.path() + " is not a regular file");
        }
        return new FileContent((Inode.File) readInode(e.ref()));
    }

    /**
     * Writes the content of regular file {@code e} to {@code out} from its current position,
     * leaving holes where the image has sparse blocks (the file is extended to full size).
     */
    public void copyTo(SquashfsEntry e, java.nio.channels.FileChannel out) throws IOException {
        if (e.type() != SquashfsEntry.Type.FILE) {
            throw new IllegalArgumentException(e.path() + " is not a regular file");
        }
        Inode.File f = (Inode.File) readInode(e.ref());
        long base = out.position();
        FileContent chunks = new FileContent(f);
        for (long at = base; chunks.fill(); at += chunks.takeChunk()) {
            if (!chunks.hole) {
                writeFully(out, chunks.buf, at);
            }
        }
        if (f.fileSize() > 0 && out.size() < base + f.fileSize()) {
            // a trailing hole: one zero byte at the end extends the file without filling it
            writeFully(out, new byte[1], base + f.fileSize() - 1);
        }
        out.position(base + f.fileSize());
    }

    private static void writeFully(java.nio.channels.FileChannel out, byte[] b, long at) throws IOException {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
        long p = at;
        while (buf.hasRemaining()) {
            p += out.write(buf, p);
        }
    }

    private byte[] fragment(long index) throws IOException {
        if (sb.fragmentTable() == Superblock.ABSENT || index >= sb.fragments()) {
            throw new FormatException("fragment", index, "fragment index outside the " + sb.fragments() + "-entry table");
        }
        long chunk = index / 512;
        byte[] at = image.read(sb.fragmentTable() + chunk * 8, 8, "fragment index");
        long block = dev.cairn.io.LittleEndian.u64(at, 0, "fragment index");
        if (block < sb.directoryTable() || block >= sb.fragmentTable()) {
            throw new FormatException(sb.fragmentTable() + chunk * 8, "fragment index", block, "fragment block outside the metadata area");
        }
        MetadataReader.Cursor c = fragmentTable.at(block, (int) (index % 512) * 16);
        long start = c.u64();
        long word = c.u32();
        return dataBlock(start, word, sb.blockSize(), -1, "fragment " + index);
    }

    /**
     * Reads one data block: {@code word} is its size entry (bit 24 = stored raw); the result is
     * exactly {@code expected} bytes when expected ≥ 0, else at most the block size.
     */
    private byte[] dataBlock(long start, long word, int max, int expected, String what) throws IOException {
        if ((word & ~0x1FF_FFFFL) != 0) {
            throw new FormatException(start, what, word, "block size entry has unknown bits set");
        }
        int len = (int) (word & 0xFF_FFFF);
        boolean raw = (word & 0x100_0000) != 0;
        if (len > sb.blockSize()) {
            throw new FormatException(start, what, len, "stored block larger than the block size");
        }
        byte[] disk = image.read(start, len, what);
        byte[] out;
        if (raw) {
            out = disk;
        } else {
            byte[] buf = new byte[max];
            int n;
            try {
                n = decompressor.decompress(disk, 0, len, buf);
            } catch (FormatException e) {
                throw new FormatException(start, what, null, e.getMessage());
            }
            out = n == buf.length ? buf : Arrays.copyOf(buf, n);
        }
        if (expected >= 0 && out.length != expected) {
            throw new FormatException(start, what, out.length, "block holds " + out.length + " bytes, expected " + expected);
        }
        return out;
    }

    private byte[] zeroBlock;

    /** One shared, never written, all-zero block for sparse reads. */
    private byte[] zeroBlock() {
        if (zeroBlock == null) {
            zeroBlock = new byte[sb.blockSize()];
        }
        return zeroBlock;
    }

    private byte[] cachedFragment;
    private long cachedFragmentIndex = -1;

    private byte[] fragmentBytes(long index) throws IOException {
        if (index != cachedFragmentIndex) {
            cachedFragment = fragment(index);
            cachedFragmentIndex = index;
        }
        return cachedFragment;
    }

    /** Streams one file's blocks and tail. */
    private final class FileContent extends InputStream {
        private final Inode.File f;
        private long pos;
        private long diskPos;
        private int block;
        private byte[] buf = new byte[0];
        private int bufPos;
        /** The current chunk is a sparse block (all zeros, nothing stored). */
        private boolean hole;

        FileContent(Inode.File f) {
            this.f = f;
            this.diskPos = f.startBlock();
        }

        private boolean fill() throws IOException {
            while (bufPos >= buf.length) {
                if (pos >= f.fileSize()) {
                    return false;
                }
                int bs = sb.blockSize();
                if (block < f.blockSizes().length) {
                    long word = Integer.toUnsignedLong(f.blockSizes()[block]);
                    int expected = (int) Math.min(bs, f.fileSize() - (long) block * bs);
                    hole = word == 0;
                    if (hole) {
                        buf = expected == bs ? zeroBlock() : new byte[expected];
                    } else {
                        buf = dataBlock(diskPos, word, bs, expected, "data block " + block);
                        diskPos += word & 0xFF_FFFF;
                    }
                    block++;
                } else {
                    if (!f.hasFragment()) {
                        throw new FormatException("file", f.header().number(), "file size exceeds its blocks and it has no fragment");
                    }
                    byte[] frag = fragmentBytes(f.fragment());
                    long tail = f.fileSize() - pos;
                    if (f.fragmentOffset() > frag.length || tail > frag.length - f.fragmentOffset()) {
                        throw new FormatException("fragment offset", f.fragmentOffset(), "file tail outside its fragment block");
                    }
                    buf = Arrays.copyOfRange(frag, (int) f.fragmentOffset(), (int) (f.fragmentOffset() + tail));
                    hole = false;
                }
                bufPos = 0;
            }
            return true;
        }

        /** Consumes the rest of the current chunk whole; returns its length. */
        int takeChunk() {
            int n = buf.length - bufPos;
            pos += n;
            bufPos = buf.length;
            return n;
        }

        @Override
        public int read() throws IOException {
            if (!fill()) {
                return -1;
            }
            pos++;
            return buf[bufPos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, buf.length - bufPos);
            System.arraycopy(buf, bufPos, b, off, n);
            bufPos += n;
            pos += n;
            return n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
