package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * SquashFS 4.0 inodes ({@code squashfs_fs.h} {@code struct squashfs_*_inode}): one record per
 * on-disk structure, each encoding its basic or extended form. Offsets are from the inode start.
 */
sealed interface Inode {
    long NO_XATTR = 0xFFFF_FFFFL;
    long NO_FRAGMENT = 0xFFFF_FFFFL;

    int DIR = 1, FILE = 2, SYMLINK = 3, BLKDEV = 4, CHRDEV = 5, FIFO = 6, SOCKET = 7;
    int LDIR = 8, LREG = 9, LSYMLINK = 10, LBLKDEV = 11, LCHRDEV = 12, LFIFO = 13, LSOCKET = 14;

    Header header();

    /** Extended attribute set index, or NO_XATTR. */
    long xattr();

    byte[] encode();

    /** Basic type (1..7) used in directory entries. */
    default int basicType() {
        int t = header().type();
        return t > 7 ? t - 7 : t;
    }

    /**
     * Common header, 16 bytes.
     *
     * @param type   0: inode type 1..14
     * @param mode   2: permission bits (≤ 0o7777)
     * @param uidIdx 4: index into the id table
     * @param gidIdx 6: index into the id table
     * @param mtime  8: modification time, unsigned seconds
     * @param number 12: inode number, 1..inodes
     */
    record Header(int type, int mode, int uidIdx, int gidIdx, long mtime, long number) {
        static final int SIZE = 16;

        void put(ByteBuffer b) {
            b.putShort((short) type).putShort((short) mode).putShort((short) uidIdx).putShort((short) gidIdx)
                    .putInt((int) mtime).putInt((int) number);
        }

        static Header get(ByteBuffer b) {
            return new Header(Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()),
                    Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()),
                    Integer.toUnsignedLong(b.getInt()), Integer.toUnsignedLong(b.getInt()));
        }
    }

    private static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Directory, basic (type 1, 32 bytes: 16 start_block, 20 nlink, 24 u16 file_size, 26 u16 offset,
     * 28 parent) or extended (type 8, 40 bytes + index: 16 nlink, 20 file_size, 24 start_block,
     * 28 parent, 32 u16 i_count, 34 u16 offset, 36 xattr).
     */
    record Directory(Header header, long startBlock, long nlink, long fileSize, int offset, long parent, long xattr,
                     List<DirIndex> index) implements Inode {
        @Override
        public byte[] encode() {
            if (header.type() == DIR) {
                ByteBuffer b = buffer(32);
                header.put(b);
                b.putInt((int) startBlock).putInt((int) nlink).putShort((short) fileSize).putShort((short) offset)
                        .putInt((int) parent);
                return b.array();
            }
            int size = 40;
            for (DirIndex i : index) {
                size += i.size();
            }
            ByteBuffer b = buffer(size);
            header.put(b);
            b.putInt((int) nlink).putInt((int) fileSize).putInt((int) startBlock).putInt((int) parent)
                    .putShort((short) index.size()).putShort((short) offset).putInt((int) xattr);
            for (DirIndex i : index) {
                i.put(b);
            }
            return b.array();
        }
    }

    /** Directory index entry: 0 index (listing offset of a header), 4 start_block, 8 size-1, 12 name. */
    record DirIndex(long index, long startBlock, byte[] name) {
        int size() {
            return 12 + name.length;
        }

        void put(ByteBuffer b) {
            b.putInt((int) index).putInt((int) startBlock).putInt(name.length - 1).put(name);
        }
    }

    /**
     * Regular file, basic (type 2: 16 start_block u32, 20 fragment, 24 offset, 28 file_size u32,
     * 32 block sizes) or extended (type 9: 16 start u64, 24 file_size u64, 32 sparse, 40 nlink,
     * 44 fragment, 48 offset, 52 xattr, 56 block sizes). Block size entries: bit 24 = stored
     * uncompressed, 0 = sparse block.
     */
    record File(Header header, long startBlock, long fileSize, long sparse, long nlink, long fragment,
                long fragmentOffset, long xattr, int[] blockSizes) implements Inode {
        @Override
        public byte[] encode() {
            if (header.type() == FILE) {
                ByteBuffer b = buffer(32 + 4 * blockSizes.length);
                header.put(b);
                b.putInt((int) startBlock).putInt((int) fragment).putInt((int) fragmentOffset).putInt((int) fileSize);
                for (int s : blockSizes) {
                    b.putInt(s);
                }
                return b.array();
            }
            ByteBuffer b = buffer(56 + 4 * blockSizes.length);
            header.put(b);
            b.putLong(startBlock).putLong(fileSize).putLong(sparse).putInt((int) nlink).putInt((int) fragment)
                    .putInt((int) fragmentOffset).putInt((int) xattr);
            for (int s : blockSizes) {
                b.putInt(s);
            }
            return b.array();
        }

        boolean hasFragment() {
            return fragment != NO_FRAGMENT;
        }
    }

    /** Symlink (type 3/10): 16 nlink, 20 target size, 24 target; extended adds u32 xattr after it. */
    record Symlink(Header header, long nlink, byte[] target, long xattr) implements Inode {
        @Override
        public byte[] encode() {
            boolean ext = header.type() == LSYMLINK;
            ByteBuffer b = buffer(24 + target.length + (ext ? 4 : 0));
            header.put(b);
            b.putInt((int) nlink).putInt(target.length).put(target);
            if (ext) {
                b.putInt((int) xattr);
            }
            return b.array();
        }
    }

    /** Block or character device (types 4,5 / 11,12): 16 nlink, 20 rdev; extended 24 xattr. */
    record Device(Header header, long nlink, long rdev, long xattr) implements Inode {
        @Override
        public byte[] encode() {
            boolean ext = header.type() > 7;
            ByteBuffer b = buffer(ext ? 28 : 24);
            header.put(b);
            b.putInt((int) nlink).putInt((int) rdev);
            if (ext) {
                b.putInt((int) xattr);
            }
            return b.array();
        }

        int major() {
            return (int) ((rdev >> 8) & 0xfff);
        }

        int minor() {
            return (int) ((rdev & 0xff) | ((rdev >> 12) & 0xfff00));
        }
    }

    /** Fifo or socket (types 6,7 / 13,14): 16 nlink; extended 20 xattr. */
    record Ipc(Header header, long nlink, long xattr) implements Inode {
        @Override
        public byte[] encode() {
            boolean ext = header.type() > 7;
            ByteBuffer b = buffer(ext ? 24 : 20);
            header.put(b);
            b.putInt((int) nlink);
            if (ext) {
                b.putInt((int) xattr);
            }
            return b.array();
        }
    }

    /** Linux new_encode_dev: major in bits 8..19, minor in 0..7 and 20..31. */
    static long encodeDev(int major, int minor) throws FormatException {
        if (major < 0 || major > 0xfff || minor < 0 || minor > 0xfffff) {
            throw new FormatException("rdev", major + ":" + minor, "device number out of range");
        }
        return ((long) major << 8) | (minor & 0xff) | ((long) (minor & ~0xff) << 12);
    }
}
