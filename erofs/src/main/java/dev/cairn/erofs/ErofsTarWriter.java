package dev.cairn.erofs;

import dev.cairn.io.AtomicOutput;
import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Converts an uncompressed tar stream into the EROFS image mkfs.erofs 1.8 makes of it with
 * containerd's options: {@code mkfs.erofs --tar=f --aufs --quiet -Enoinline_data -b4096 -T<t>
 * --mkfs-time --sort=none -U <uuid>}. The output is meant to be byte-identical to erofs-utils
 * 1.8.x's (checked against Debian 13's 1.8.6 by {@code ErofsOracleIT}).
 *
 * <p>How mkfs.erofs builds such an image, and so how this class does: (1) the tar is read once, in
 * order; every regular file's data is copied at once to fresh blocks right after the previous
 * file's ({@code --sort=none} with {@code -Enoinline_data}), while a tree of inodes is built
 * (aufs whiteouts {@code .wh.NAME} become character devices 0:0, {@code .wh..wh..opq} sets
 * {@code trusted.overlay.opaque=y}, a directory holding whiteouts gets
 * {@code trusted.overlay.origin}); (2) the tree is dumped directory by directory (children of a
 * directory in name order, sub-directories depth first): each inode, its inline xattrs and, for
 * directories and symlinks, its tail data are placed by mkfs.erofs's buffer manager
 * ({@link BlockAllocator}); (3) the superblock with its CRC-32C goes last.
 *
 * <p>Tar-index mode ({@link ErofsOptions#tarIndex()}, {@code mkfs.erofs --tar=i}): 512-byte blocks,
 * a device table naming the tar as device 1 mapped right after the image, and regular files as
 * chunk indexes into the tar instead of data blocks; {@link #writeTarIndexLayer} appends the tar, as
 * containerd does. The superblock then carries no checksum (erofs-utils 1.8 writes it back only for
 * block 0).
 *
 * <p>Refused (a {@link FormatException}): {@code ..} path components, names over 255 bytes, hard
 * links to missing or directory targets, xattrs outside the user/trusted/security/posix-acl name
 * spaces, devices beyond Linux's 12/20-bit major/minor, more than {@link ErofsOptions#maxEntries()}
 * entries or files over {@link ErofsOptions#maxFileSize()}.
 */
public final class ErofsTarWriter {
    static final int BLKSZBITS = 12;
    static final int BLKSZ = 1 << BLKSZBITS;
    /** Block size bits of tar-index images: mkfs.erofs {@code --tar=i} forces 512 (whatever {@code -b} says). */
    static final int INDEX_BLKSZBITS = 9;

    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    static final int S_IFDIR = 0040000;
    static final int S_IFCHR = 0020000;
    static final int S_IFIFO = 0010000;

    static final int FT_UNKNOWN = 0;
    static final int FT_REG = 1;
    static final int FT_DIR = 2;
    static final int FT_CHR = 3;
    static final int FT_BLK = 4;
    static final int FT_FIFO = 5;
    static final int FT_SOCK = 6;
    static final int FT_LNK = 7;

    static final int LAYOUT_FLAT_PLAIN = 0;
    static final int LAYOUT_FLAT_INLINE = 2;
    static final int LAYOUT_CHUNK_BASED = 4;

    static final long XATTR_FILTER_SEED = 0x25BBE08FL;
    private static final byte[] OVL_OPAQUE = "trusted.overlay.opaque".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OVL_ORIGIN = "trusted.overlay.origin".getBytes(StandardCharsets.US_ASCII);
    /** Xattr name prefixes by on-disk index ({@code xattr_types} of lib/xattr.c). */
    private static final String[] XATTR_PREFIXES = {null, "user.", "system.posix_acl_access",
        "system.posix_acl_default", "trusted.", null, "security."};

    /** An inline xattr of an inode: on-disk prefix index, full name, value. */
    record Xattr(int index, byte[] name, byte[] value) {
        int prefixLen() {
            return XATTR_PREFIXES[index].length();
        }

        int entrySize() {
            return XattrEntry.SIZE + name.length - prefixLen() + value.length;
        }
    }

    /** A directory entry ({@code struct erofs_dentry}). */
    static final class Dentry {
        final byte[] name;
        Node inode;
        int type;

        Dentry(byte[] name, Node inode, int type) {
            this.name = name;
            this.inode = inode;
            this.type = type;
        }
    }

    /** An inode being built ({@code struct erofs_inode}). */
    static final class Node {
        int mode;
        long uid;
        long gid;
        long mtime;
        long nsec;
        long size;
        long nlink;
        long rdev;
        Node parent;
        Map<String, Dentry> children;
        List<Dentry> sorted;
        final List<Xattr> xattrs = new ArrayList<>();
        boolean whiteouts;
        byte[] link;
        long blkaddr;
        int layout = LAYOUT_FLAT_PLAIN;
        int isize;
        int xattrIsize;
        int idataSize;
        byte[] idata;
        boolean lazyTail;
        BlockAllocator.Head dataBh;
        BlockAllocator.Head bh;
        BlockAllocator.Head inlineBh;
        byte[] inlineData;
        long nid;
        long ino;
        boolean visited;
        Node nextDirwrite;
        int chunkFormat;
        long[] chunks;

        boolean isDir() {
            return (mode & S_IFMT) == S_IFDIR;
        }
    }

    private final ErofsOptions options;
    private final FileChannel out;
    /** Tar-index mode ({@code --tar=i}): 512-byte blocks, regular files are chunk indexes into the tar. */
    private final boolean index;
    private final int bits;
    private final int blksz;
    private final BlockAllocator alloc;
    /** Bytes [0, 4096) of the image as written (the superblock and, in tar-index mode, the device table). */
    private final byte[] block0 = new byte[BLKSZ];
    private BlockAllocator.Head devt;
    private int devtSlotoff;
    private final List<Node> prepared = new ArrayList<>();
    private final Node root;
    private long inos;
    private long entries;
    private boolean xattrFilter;

    private ErofsTarWriter(ErofsOptions options, FileChannel out) {
        this.options = options;
        this.out = out;
        this.index = options.tarIndex();
        this.bits = index ? INDEX_BLKSZBITS : BLKSZBITS;
        this.blksz = 1 << bits;
        this.alloc = new BlockAllocator(bits);
        alloc.reserveSuperblock();
        if (index) {
            // erofs_mkfs_init_devices: one device slot, the tar, right after the superblock
            devt = alloc.balloc(BlockAllocator.Kind.DEVT, DeviceSlot.SIZE, 0);
            alloc.map(devt.block);
            devtSlotoff = Math.toIntExact(alloc.tell(devt, false) / DeviceSlot.SIZE);
        }
        root = new Node();
        root.mode = S_IFDIR | 0777;
        root.parent = root;
        root.mtime = options.buildTime();
        initEmptyDir(root);
    }

    /** Converts {@code tar} into an EROFS image at {@code target}, atomically. */
    public static ErofsResult write(InputStream tar, Path target, ErofsOptions options) throws IOException {
        try (AtomicOutput o = AtomicOutput.open(target)) {
            ErofsResult r = write(tar, o.channel(), options);
            o.commit();
            return r;
        }
    }

    /** Converts {@code tar} into an EROFS image written from position 0 of an empty channel. */
    public static ErofsResult write(InputStream tar, FileChannel out, ErofsOptions options) throws IOException {
        if (out.size() != 0) {
            throw new IllegalArgumentException("the output channel must be empty");
        }
        ErofsTarWriter w = new ErofsTarWriter(options, out);
        TarReader reader = new TarReader(tar);
        TarReader.Entry e;
        while ((e = reader.next()) != null) {
            w.add(reader, e);
        }
        return w.finish(reader.volumeName(), reader.offset());
    }

    /**
     * containerd's tar-index layer file ({@code GenerateTarIndexAndAppendTar}): the tar-index image
     * of {@code tar} ({@code options} must be in tar-index mode) followed by every byte of the tar
     * stream, unpadded, in one file written atomically. The tar is spooled to a temporary file beside
     * {@code target} while the index is built.
     */
    public static TarIndexLayerResult writeTarIndexLayer(InputStream tar, Path target, ErofsOptions options)
            throws IOException {
        if (!options.tarIndex()) {
            throw new IllegalArgumentException("a tar-index layer needs options in tar-index mode");
        }
        try (AtomicOutput o = AtomicOutput.open(target)) {
            Path spool = AtomicOutput.createTempFile(o.tempPath().getParent(), ".tar-index-", ".tar");
            try (FileChannel sp = FileChannel.open(spool, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                TeeInputStream tee = new TeeInputStream(tar, sp);
                ErofsResult index = write(tee, o.channel(), options);
                tee.drain();
                long tarSize = sp.size();
                FileChannel out = o.channel();
                long done = 0;
                while (done < tarSize) {
                    long n = out.transferFrom(sp.position(done), index.size() + done, tarSize - done);
                    if (n <= 0) {
                        throw new IOException("could not append the tar to " + target);
                    }
                    done += n;
                }
                if (out.size() != index.size() + tarSize) {
                    throw new IllegalStateException("layer size " + out.size() + " != " + (index.size() + tarSize));
                }
                o.commit();
                return new TarIndexLayerResult(index, tarSize, index.size() + tarSize);
            } finally {
                Files.deleteIfExists(spool);
                AtomicOutput.settled(spool);
            }
        }
    }

    /** Copies what is read to a channel (the tar spool of {@link #writeTarIndexLayer}). */
    private static final class TeeInputStream extends java.io.FilterInputStream {
        private final FileChannel copy;

        TeeInputStream(InputStream in, FileChannel copy) {
            super(in);
            this.copy = copy;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                ByteBuffer buf = ByteBuffer.wrap(b, off, n);
                while (buf.hasRemaining()) {
                    copy.write(buf);
                }
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] b = new byte[(int) Math.min(8192, Math.max(n, 1))];
            int r = read(b, 0, (int) Math.min(b.length, n));
            return Math.max(r, 0);
        }

        /** Reads (and copies) the rest of the stream: what follows the tar's end-of-archive blocks. */
        void drain() throws IOException {
            byte[] b = new byte[1 << 16];
            while (read(b, 0, b.length) >= 0) {
                // copied by read
            }
        }
    }

    // ---------------------------------------------------------------- phase 1: the tar

    private static void initEmptyDir(Node dir) {
        dir.children = new HashMap<>();
        dir.children.put(".", new Dentry(new byte[] {'.'}, dir, FT_DIR));
        dir.children.put("..", new Dentry(new byte[] {'.', '.'}, dir.parent, FT_DIR));
        dir.nlink = 2;
    }

    private static String key(byte[] name) {
        return new String(name, StandardCharsets.ISO_8859_1);
    }

    static int fileType(int mode) {
        return switch (mode & S_IFMT) {
            case S_IFREG -> FT_REG;
            case S_IFDIR -> FT_DIR;
            case S_IFCHR -> FT_CHR;
            case S_IFBLK -> FT_BLK;
            case S_IFIFO -> FT_FIFO;
            case S_IFSOCK -> FT_SOCK;
            case S_IFLNK -> FT_LNK;
            default -> FT_UNKNOWN;
        };
    }

    /** Result of a path walk ({@code erofs_rebuild_get_dentry}). */
    private record Walk(Dentry d, boolean whiteout, boolean opaque) {
    }

    private Walk walk(byte[] path, long at) throws FormatException {
        if (path.length > TarReader.PATH_MAX) {
            throw new FormatException(at, "path", path.length + " bytes", "path longer than " + TarReader.PATH_MAX);
        }
        Node pwd = root;
        Dentry d = null;
        boolean whiteout = false;
        int s = 0;
        int len = path.length;
        while (s < len) {
            int slash = -1;
            for (int i = s; i < len; i++) {
                if (path[i] == '/') {
                    slash = i;
                    break;
                }
            }
            if (slash == s) {
                s++;
                continue;
            }
            int end = slash < 0 ? len : slash;
            byte[] comp = Arrays.copyOfRange(path, s, end);
            String name = key(comp);
            if (name.equals(".")) {
                // nothing
            } else if (name.equals("..")) {
                throw new FormatException(at, "path", key(path), "path traversal ('..') refused");
            } else {
                if (slash < 0) {
                    if (name.equals(".wh..wh..opq")) {
                        return new Walk(d, false, true);
                    }
                    if (name.startsWith(".wh.")) {
                        comp = Arrays.copyOfRange(comp, 4, comp.length);
                        name = key(comp);
                        whiteout = true;
                    }
                }
                if (comp.length == 0 || comp.length > 255) {
                    throw new FormatException(at, "path", key(path), "file name empty or longer than 255 bytes");
                }
                if (name.indexOf('\0') >= 0) {
                    throw new FormatException(at, "path", key(path), "NUL in a file name");
                }
                Dentry found = pwd.children.get(name);
                if (found != null && !name.equals(".") && !name.equals("..")) {
                    if (found.type != FT_DIR && slash >= 0) {
                        throw new FormatException(at, "path", key(path), "a path component is not a directory");
                    }
                    d = found;
                    pwd = found.inode;
                } else if (slash < 0) {
                    d = new Dentry(comp, pwd, FT_UNKNOWN);
                    pwd.children.put(name, d);
                } else {
                    d = mkdir(pwd, comp);
                    pwd = d.inode;
                }
            }
            if (slash < 0) {
                break;
            }
            s = slash + 1;
        }
        return new Walk(d, whiteout, false);
    }

    private static Dentry mkdir(Node dir, byte[] name) {
        Node inode = new Node();
        inode.mode = S_IFDIR | 0755 | (dir.mode & 020) | (dir.mode & 002);
        inode.parent = dir;
        inode.uid = dir.uid;
        inode.gid = dir.gid;
        inode.mtime = dir.mtime;
        inode.nsec = dir.nsec;
        initEmptyDir(inode);
        Dentry d = new Dentry(name, inode, FT_DIR);
        dir.children.put(key(name), d);
        return d;
    }

    private static void removeInode(Node inode) {
        inode.nlink--;
        if (!inode.isDir()) {
            return;
        }
        for (Dentry d : inode.children.values()) {
            String n = key(d.name);
            if (!n.equals(".") && !n.equals("..") && d.inode != null) {
                removeInode(d.inode);
            }
            d.inode = null;
        }
        inode.parent.nlink--;
    }

    private void add(TarReader reader, TarReader.Entry e) throws IOException {
        long at = e.offset();
        if (++entries > options.maxEntries()) {
            throw new FormatException(at, "entries", entries, "more than " + options.maxEntries() + " tar entries");
        }
        int stMode = switch (e.typeflag()) {
            case '0', '7', '1' -> S_IFREG;
            case '2' -> S_IFLNK;
            case '3' -> S_IFCHR;
            case '4' -> S_IFBLK;
            case '5' -> S_IFDIR;
            case '6' -> S_IFIFO;
            default -> throw new IllegalStateException("type " + e.typeflag());
        };
        if ((e.mode() & ~0177777) != 0) {
            throw new FormatException(at, "mode", Integer.toOctalString(e.mode()), "mode has bits above 16");
        }
        stMode |= e.mode() & ~S_IFMT;
        Walk w = walk(e.path(), at);
        Dentry d = w.d();
        Node inode;
        if (d == null) {
            if ((stMode & S_IFMT) != S_IFDIR) {
                throw new FormatException(at, "path", key(e.path()), "the root can only be a directory");
            }
            inode = root;
        } else if (w.opaque()) {
            setXattr(d.inode, OVL_OPAQUE, new byte[] {'y'}, at);
            return;
        } else if (e.typeflag() == '1') {
            if (d.type != FT_UNKNOWN) {
                removeInode(d.inode);
            }
            d.inode = null;
            if (e.link() == null) {
                throw new FormatException(at, "linkname", "", "hard link without a target");
            }
            Walk w2 = walk(e.link(), at);
            Dentry d2 = w2.d();
            if (d2 == null || d2.type == FT_UNKNOWN || d2.inode == null) {
                throw new FormatException(at, "linkname", key(e.link()), "hard link target does not exist");
            }
            if (d2.inode.isDir()) {
                throw new FormatException(at, "linkname", key(e.link()), "hard link to a directory");
            }
            d.inode = d2.inode;
            d.type = d2.type;
            d.inode.nlink++;
            return;
        } else if (d.type != FT_UNKNOWN) {
            if (d.type != FT_DIR || (stMode & S_IFMT) != S_IFDIR) {
                Node parent = d.inode.parent;
                removeInode(d.inode);
                d.inode = parent;
                inode = newInode(d, stMode);
            } else {
                inode = d.inode;
            }
        } else {
            inode = newInode(d, stMode);
        }
        if (w.whiteout()) {
            inode.mode = (inode.mode & ~S_IFMT) | S_IFCHR;
            inode.rdev = 0;
            d.type = FT_CHR;
            inode.parent.whiteouts = true;
        } else {
            inode.mode = stMode;
            if ((stMode & S_IFMT) == S_IFBLK || (stMode & S_IFMT) == S_IFCHR) {
                if (e.devmajor() < 0 || e.devmajor() > 0xFFF || e.devminor() < 0 || e.devminor() > 0xFFFFF) {
                    throw new FormatException(at, "devmajor/devminor", e.devmajor() + ":" + e.devminor(),
                            "device number beyond Linux's 12-bit major / 20-bit minor");
                }
                long minor = e.devminor();
                inode.rdev = (minor & 0xFF) | (e.devmajor() << 8) | ((minor & ~0xFFL) << 12);
            }
        }
        if (e.uid() < 0 || e.uid() > 0xFFFF_FFFFL || e.gid() < 0 || e.gid() > 0xFFFF_FFFFL) {
            throw new FormatException(at, "uid/gid", e.uid() + "/" + e.gid(), "uid or gid out of the 32-bit range");
        }
        inode.uid = e.uid();
        inode.gid = e.gid();
        inode.mtime = e.mtime();
        inode.nsec = e.nsec();
        inode.size = e.size();
        if (!inode.isDir()) {
            if ((inode.mode & S_IFMT) == S_IFLNK) {
                byte[] link = e.link() == null ? new byte[0] : e.link();
                if (link.length > TarReader.PATH_MAX - 1) {
                    throw new FormatException(at, "linkname", link.length + " bytes", "symlink target too long");
                }
                inode.size = link.length;
                inode.link = link;
            } else if (inode.size != 0) {
                if (inode.size > options.maxFileSize()) {
                    throw new FormatException(at, "size", inode.size, "file larger than " + options.maxFileSize());
                }
                if (index) {
                    chunkIndexes(inode, reader.offset(), at);
                } else {
                    copyData(reader, inode, at);
                }
            }
            inode.nlink++;
        } else if (inode.nlink == 0) {
            initEmptyDir(inode);
        }
        for (TarReader.Xattr x : e.xattrs()) {
            setXattr(inode, x.name(), x.value(), at);
        }
    }

    private static Node newInode(Dentry d, int stMode) {
        Node inode = new Node();
        inode.parent = d.inode;
        d.inode = inode;
        d.type = fileType(stMode);
        return inode;
    }

    private void setXattr(Node inode, byte[] name, byte[] value, long at) throws FormatException {
        String n = key(name);
        int index = -1;
        for (int i = 0; i < XATTR_PREFIXES.length; i++) {
            if (XATTR_PREFIXES[i] != null && n.startsWith(XATTR_PREFIXES[i])) {
                index = i;
                break;
            }
        }
        if (index < 0) {
            throw new UnsupportedFeatureException("xattr", n,
                    "xattr name space not storable in EROFS (mkfs.erofs drops it with an error)");
        }
        if (name.length - XATTR_PREFIXES[index].length() > 255 || value.length > 0xFFFF) {
            throw new FormatException(at, "xattr", n, "xattr name or value too long");
        }
        if (n.indexOf('\0') >= 0) {
            throw new FormatException(at, "xattr", n, "NUL in an xattr name");
        }
        inode.xattrs.add(new Xattr(index, name, value));
    }

    /**
     * {@code tarerofs_write_chunkes} with a device table: one chunk as large as the file (a power of
     * two of at least a block, at most 2^31 blocks), each chunk naming its block in the tar.
     */
    private void chunkIndexes(Node inode, long dataOffset, long at) throws FormatException {
        if ((dataOffset & (blksz - 1)) != 0) {
            throw new FormatException(at, "data offset", dataOffset, "tar data not 512-byte aligned");
        }
        int chunkbits = 64 - Long.numberOfLeadingZeros(inode.size - 1);
        chunkbits = Math.max(chunkbits, bits);
        chunkbits = Math.min(chunkbits, ChunkIndex.FORMAT_BLKBITS_MASK + bits);
        inode.chunkFormat = (chunkbits - bits) | ChunkIndex.FORMAT_INDEXES;
        long chunksize = 1L << chunkbits;
        long count = (inode.size + chunksize - 1) >> chunkbits;
        long[] chunks = new long[Math.toIntExact(count)];
        long blkaddr = dataOffset >> bits;
        for (int i = 0; i < chunks.length; i++) {
            if (blkaddr > 0xFFFF_FFFFL) {
                throw new FormatException(at, "data offset", dataOffset, "tar larger than 2^32 blocks");
            }
            chunks[i] = blkaddr;
            blkaddr += chunksize >> bits;
        }
        inode.chunks = chunks;
        inode.layout = LAYOUT_CHUNK_BASED;
        inode.idataSize = 0;
    }

    /** Bytes of the chunk index array after the inode and its xattrs ({@code extent_isize}). */
    private static int extentIsize(Node inode) {
        return inode.chunks == null ? 0 : inode.chunks.length * ChunkIndex.SIZE;
    }

    /** {@code tarerofs_write_uncompressed_file}: the data goes to fresh blocks now, in tar order. */
    private void copyData(TarReader reader, Node inode, long at) throws IOException {
        inode.layout = LAYOUT_FLAT_PLAIN;
        long nblocks = (inode.size + blksz - 1) >> bits;
        allocateData(inode, nblocks, BlockAllocator.Kind.DATA);
        long pos = inode.blkaddr << bits;
        byte[] buf = new byte[1 << 16];
        long left = inode.size;
        while (left > 0) {
            int n = reader.readData(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new FormatException(at, "size", inode.size, "tar ends inside the file's data");
            }
            writeAt(pos, buf, 0, n);
            pos += n;
            left -= n;
        }
        inode.idataSize = 0;
    }

    // ---------------------------------------------------------------- phase 2: the tree

    private void allocateData(Node inode, long nblocks, BlockAllocator.Kind kind) throws FormatException {
        if (nblocks == 0) {
            inode.blkaddr = BlockAllocator.NULL_ADDR;
            return;
        }
        BlockAllocator.Head bh = alloc.balloc(kind, nblocks << bits, 0);
        inode.dataBh = bh;
        alloc.map(bh.block);
        inode.blkaddr = bh.block.blkaddr;
        checkBlocks();
    }

    private void checkBlocks() throws FormatException {
        if (alloc.tailBlkaddr() >= BlockAllocator.NULL_ADDR) {
            throw new FormatException("blocks", alloc.tailBlkaddr(), "image larger than 2^32 blocks");
        }
    }

    private boolean useExtended(Node inode) {
        return inode.size > 0xFFFF_FFFFL || inode.uid > 0xFFFF || inode.gid > 0xFFFF || inode.nlink > 0xFFFF
                || inode.mtime != options.buildTime() || inode.nsec != 0;
    }

    private void dumpTree() throws IOException {
        root.visited = true;
        handleInode(root);
        alloc.map(root.bh.block);
        long off = alloc.tell(root.bh, false);
        if (off > (0xFFFFL << 5)) {
            throw new UnsupportedFeatureException("root_nid", off, "root inode beyond nid 65535");
        }
        root.nid = off >> 5;
        Node dumpdir = root;
        root.nextDirwrite = null;
        do {
            Node dir = dumpdir;
            dumpdir = dir.nextDirwrite;
            Node head = null;
            Node last = null;
            for (Dentry d : dir.sorted) {
                if (isDotOrDotDot(d.name)) {
                    continue;
                }
                Node inode = d.inode;
                if (!inode.visited) {
                    inode.visited = true;
                    handleInode(inode);
                    if (inode.isDir()) {
                        if (last == null) {
                            head = inode;
                        } else {
                            last.nextDirwrite = inode;
                        }
                        last = inode;
                    }
                }
            }
            if (last == null) {
                head = dumpdir;
            } else {
                last.nextDirwrite = dumpdir;
            }
            dumpdir = head;
            writeDir(dir);
        } while (dumpdir != null);
    }

    private static boolean isDotOrDotDot(byte[] n) {
        return (n.length == 1 && n[0] == '.') || (n.length == 2 && n[0] == '.' && n[1] == '.');
    }

    private void handleInode(Node inode) throws IOException {
        inode.isize = useExtended(inode) ? ExtendedInode.SIZE : CompactInode.SIZE;
        if (inode.whiteouts) {
            inode.xattrs.add(new Xattr(4, OVL_ORIGIN, new byte[0]));
        }
        inode.xattrIsize = xattrIbodySize(inode);
        if (!inode.isDir()) {
            if ((inode.mode & S_IFMT) == S_IFLNK) {
                inode.layout = LAYOUT_FLAT_INLINE;
                long nblocks = inode.size >> bits;
                allocateData(inode, nblocks, BlockAllocator.Kind.DATA);
                if (nblocks > 0) {
                    writeAt(inode.blkaddr << bits, inode.link, 0, (int) (nblocks << bits));
                }
                inode.idataSize = (int) (inode.size & (blksz - 1));
                inode.idata = Arrays.copyOfRange(inode.link, (int) (nblocks << bits), inode.link.length);
            }
            prepareInodeBuffer(inode);
            writeTailEnd(inode);
        } else {
            List<Dentry> list = new ArrayList<>(inode.children.values());
            long nlink = 0;
            for (Dentry d : list) {
                if (d.type == FT_DIR) {
                    nlink++;
                }
            }
            list.sort((a, b) -> Arrays.compareUnsigned(a.name, b.name));
            inode.sorted = list;
            long size = dirSize(list.stream().map(d -> d.name).toList(), blksz);
            inode.size = size;
            inode.layout = LAYOUT_FLAT_INLINE;
            inode.idataSize = (int) (size & (blksz - 1));
            inode.nlink = nlink > 0xFFFF && inode.isize == CompactInode.SIZE ? 1 : nlink;
            prepareInodeBuffer(inode);
        }
    }

    /**
     * Directory size ({@code erofs_prepare_dir_file}): dirents and names of the sorted entries, a
     * block is never split, so an entry that does not fit starts the next block.
     */
    static long dirSize(List<byte[]> sortedNames) {
        return dirSize(sortedNames, BLKSZ);
    }

    static long dirSize(List<byte[]> sortedNames, int blksz) {
        long size = 0;
        for (byte[] n : sortedNames) {
            int len = n.length + Dirent.SIZE;
            if ((size & (blksz - 1)) + len > blksz) {
                size = (size + blksz - 1) & -blksz;
            }
            size += len;
        }
        return size;
    }

    private static int xattrIbodySize(Node inode) {
        if (inode.xattrs.isEmpty()) {
            return 0;
        }
        int size = XattrIbodyHeader.SIZE;
        for (Xattr x : inode.xattrs) {
            size = (size + x.entrySize() + 3) & ~3;
        }
        return size;
    }

    private void prepareInodeBuffer(Node inode) throws FormatException {
        int inodesize = inode.isize + inode.xattrIsize;
        if (extentIsize(inode) > 0) {
            inodesize = ((inodesize + 7) & ~7) + extentIsize(inode);
        }
        boolean noinline = inode.layout == LAYOUT_FLAT_PLAIN || inode.layout == LAYOUT_CHUNK_BASED;
        BlockAllocator.Head bh = null;
        if (!noinline) {
            if ((inode.mode & S_IFMT) == S_IFREG) {
                inode.layout = LAYOUT_FLAT_PLAIN; // -Enoinline_data
                noinline = true;
            } else {
                if (inode.idataSize == 0) {
                    inode.layout = LAYOUT_FLAT_PLAIN;
                }
                bh = alloc.balloc(BlockAllocator.Kind.INODE, inodesize, inode.idataSize);
                if (bh == null) {
                    inode.layout = LAYOUT_FLAT_PLAIN;
                    noinline = true;
                } else if (inode.idataSize > 0) {
                    inode.layout = LAYOUT_FLAT_INLINE;
                    inode.inlineBh = alloc.battach(bh, BlockAllocator.Kind.META, inode.idataSize);
                }
            }
        }
        if (noinline) {
            if (inode.idataSize != 0) {
                if (inode.dataBh != null) {
                    alloc.balloon(inode.dataBh, blksz);
                } else {
                    inode.lazyTail = true;
                }
            }
            bh = alloc.balloc(BlockAllocator.Kind.INODE, inodesize, 0);
        }
        inode.bh = bh;
        inode.ino = ++inos;
        prepared.add(inode);
        checkBlocks();
    }

    private void writeTailEnd(Node inode) throws IOException {
        BlockAllocator.Head bh = inode.dataBh;
        if (inode.idataSize != 0) {
            if (inode.inlineBh != null) {
                inode.inlineData = inode.idata;
            } else {
                if (bh == null) {
                    bh = alloc.balloc(inode.isDir() ? BlockAllocator.Kind.DIRA : BlockAllocator.Kind.DATA, blksz, 0);
                    alloc.map(bh.block);
                    inode.blkaddr = bh.block.blkaddr;
                    inode.dataBh = bh;
                } else {
                    if (inode.lazyTail) {
                        alloc.balloon(bh, blksz);
                        inode.lazyTail = false;
                    }
                    alloc.map(bh.block);
                }
                long pos = alloc.tell(bh, true) - blksz;
                byte[] blk = Arrays.copyOf(inode.idata, blksz);
                writeAt(pos, blk, 0, blksz);
                checkBlocks();
            }
            inode.idataSize = 0;
            inode.idata = null;
        }
        if (bh != null) {
            alloc.drop(bh);
            inode.dataBh = null;
        }
    }

    private long lookupNid(Node inode) {
        if (inode.bh != null && inode.nid <= 0) {
            alloc.map(inode.bh.block);
            inode.nid = alloc.tell(inode.bh, false) >> 5;
        }
        return inode.nid;
    }

    /** {@code erofs_write_dir_file} and the directory's tail: dirent blocks in name order. */
    private void writeDir(Node dir) throws IOException {
        long nblocks = dir.size >> bits;
        allocateData(dir, nblocks, BlockAllocator.Kind.DIRA);
        List<Dentry> block = new ArrayList<>();
        int used = 0;
        long blkno = 0;
        for (Dentry d : dir.sorted) {
            int len = d.name.length + Dirent.SIZE;
            lookupNid(d.inode);
            if (used + len > blksz) {
                writeAt((dir.blkaddr + blkno) << bits, dirBlock(block, blksz), 0, blksz);
                block.clear();
                used = 0;
                blkno++;
            }
            block.add(d);
            used += len;
        }
        if (used == blksz) {
            writeAt((dir.blkaddr + blkno) << bits, dirBlock(block, blksz), 0, blksz);
        } else if (used > 0) {
            dir.idata = dirBlock(block, used);
        }
        writeTailEnd(dir);
    }

    /** One directory block (or inline tail) of {@code size} bytes: all dirents, then the names. */
    static byte[] dirBlock(List<Dentry> entries, int size) {
        byte[] b = new byte[size];
        int p = 0;
        int q = entries.size() * Dirent.SIZE;
        for (Dentry d : entries) {
            new Dirent(d.inode.nid, q, d.type).encode(b, p);
            System.arraycopy(d.name, 0, b, q, d.name.length);
            p += Dirent.SIZE;
            q += d.name.length;
        }
        return b;
    }

    // ---------------------------------------------------------------- phase 3: inodes and superblock

    private byte[] inodeBytes(Node inode) {
        int extentAt = ((inode.isize + inode.xattrIsize) + 7) & ~7;
        byte[] b = new byte[extentIsize(inode) > 0 ? extentAt + extentIsize(inode) : inode.isize + inode.xattrIsize];
        int icount = inode.xattrIsize == 0 ? 0 : (inode.xattrIsize - XattrIbodyHeader.SIZE) / 4 + 1;
        int type = inode.mode & S_IFMT;
        long iu = (type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK) ? inode.rdev
                : inode.layout == LAYOUT_CHUNK_BASED ? inode.chunkFormat : inode.blkaddr;
        if (inode.isize == CompactInode.SIZE) {
            // compact only when nlink, uid and gid fit 16 bits (useExtended)
            new CompactInode(inode.layout << 1, icount, inode.mode, Math.toIntExact(inode.nlink), inode.size, iu,
                    inode.ino, Math.toIntExact(inode.uid), Math.toIntExact(inode.gid)).encode(b, 0);
        } else {
            new ExtendedInode(1 | inode.layout << 1, icount, inode.mode, inode.size, iu, inode.ino, inode.uid,
                    inode.gid, inode.mtime, inode.nsec, inode.nlink).encode(b, 0);
        }
        if (inode.xattrIsize > 0) {
            long filter = 0;
            for (Xattr x : inode.xattrs) {
                int base = x.prefixLen();
                int h = Xxh32.hash(x.name(), base, x.name().length - base, (int) (XATTR_FILTER_SEED + x.index()));
                filter |= 1L << (h & 31);
            }
            long nameFilter = 0xFFFF_FFFFL & ~filter;
            if (nameFilter != 0) {
                xattrFilter = true;
            }
            int p = inode.isize;
            new XattrIbodyHeader(nameFilter, 0).encode(b, p);
            p += XattrIbodyHeader.SIZE;
            for (Xattr x : inode.xattrs) {
                int base = x.prefixLen();
                new XattrEntry(x.name().length - base, x.index(), x.value().length).encode(b, p);
                System.arraycopy(x.name(), base, b, p + XattrEntry.SIZE, x.name().length - base);
                System.arraycopy(x.value(), 0, b, p + XattrEntry.SIZE + x.name().length - base, x.value().length);
                p = (p + x.entrySize() + 3) & ~3;
            }
        }
        if (inode.chunks != null) {
            for (int i = 0; i < inode.chunks.length; i++) {
                new ChunkIndex(0, 1, inode.chunks[i]).encode(b, extentAt + i * ChunkIndex.SIZE);
            }
        }
        return b;
    }

    /**
     * Writes the inodes and the superblock. {@code tarEnd}: the tar offset after its end-of-archive
     * blocks, the tar device's size in tar-index mode (mkfs.erofs reads no further).
     */
    private ErofsResult finish(byte[] volumeName, long tarEnd) throws IOException {
        dumpTree();
        long blocks = alloc.mapAll();
        checkBlocks();
        if (index) {
            // erofs_mkfs_dump_blobs: the tar device is mapped right after the metadata
            long devBlocks = (tarEnd + blksz - 1) >> bits;
            if (devBlocks > 0xFFFF_FFFFL || blocks + devBlocks > 0xFFFF_FFFFL) {
                throw new FormatException("tar", tarEnd, "tar larger than 2^32 blocks");
            }
            byte[] slot = new byte[DeviceSlot.SIZE];
            new DeviceSlot(new byte[64], devBlocks, blocks).encode(slot, 0);
            writeAt(alloc.tell(devt, false), slot, 0, slot.length);
            alloc.drop(devt);
            blocks = alloc.mapAll();
        }
        for (Node inode : prepared) {
            byte[] b = inodeBytes(inode);
            writeAt(alloc.tell(inode.bh, false), b, 0, b.length);
            if (inode.inlineData != null) {
                writeAt(alloc.tell(inode.inlineBh, false), inode.inlineData, 0, inode.inlineData.length);
            }
        }
        UUID u = options.uuid();
        byte[] uuid = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
                .putLong(u.getLeastSignificantBits()).array();
        byte[] volume = volumeName == null ? new byte[16] : Arrays.copyOf(volumeName, 16);
        long compat = Superblock.COMPAT_MTIME | (xattrFilter ? Superblock.COMPAT_XATTR_FILTER : 0);
        long incompat = index ? Superblock.INCOMPAT_DEVICE_TABLE : 0;
        int extraDevices = index ? 1 : 0;
        long checksum = 0;
        if (!index) {
            compat |= Superblock.COMPAT_SB_CHKSUM;
            new Superblock(0, compat, bits, (int) root.nid, inos, options.buildTime(), 0, blocks, 0, 0, uuid, volume,
                    incompat, extraDevices, devtSlotoff).encode(block0, Superblock.OFFSET);
            checksum = Superblock.checksum(block0, Superblock.OFFSET, blksz - Superblock.OFFSET);
        }
        // tar-index mode: erofs-utils 1.8's erofs_enable_sb_chksum computes the checksum over 512
        // bytes but writes back only block 0, so the superblock keeps neither flag nor checksum
        new Superblock(checksum, compat, bits, (int) root.nid, inos, options.buildTime(), 0, blocks, 0, 0, uuid,
                volume, incompat, extraDevices, devtSlotoff).encode(block0, Superblock.OFFSET);
        if (index) {
            writeAt(Superblock.OFFSET, Arrays.copyOfRange(block0, Superblock.OFFSET, Superblock.OFFSET + Superblock.SIZE),
                    0, Superblock.SIZE);
        } else {
            writeAt(0, block0.clone(), 0, blksz);
        }
        long size = blocks << bits;
        if (out.size() < size) {
            writeAt(size - 1, new byte[1], 0, 1);
        }
        if (out.size() != size) {
            throw new IllegalStateException("image size " + out.size() + " != " + size);
        }
        return new ErofsResult(size, blocks, inos, (int) root.nid, u, checksum);
    }

    private void writeAt(long pos, byte[] b, int off, int len) throws IOException {
        if (pos < block0.length && b != block0) {
            int n = (int) Math.min(len, block0.length - pos);
            System.arraycopy(b, off, block0, (int) pos, n);
        }
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
            out.write(buf, pos + buf.position() - off);
        }
    }
}
