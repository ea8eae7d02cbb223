package dev.cairn.squashfs;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds SquashFS images byte by byte for hostile-input tests: gzip superblock, every metadata
 * block stored raw (8192 bytes of data, 8194 on disk), so a position in a metadata stream maps to
 * a reference without compressing anything. Layout: superblock, inode table, directory table, id
 * table (one id, 0), then the optional xattr tables.
 */
final class CraftedImage {
    private CraftedImage() {
    }

    /** {@code data} as raw metadata blocks. */
    static byte[] metaBlocks(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < Math.max(data.length, 1); i += 8192) {
            int n = Math.min(8192, data.length - i);
            out.write(n | 0x8000);
            out.write((n | 0x8000) >>> 8);
            out.write(data, i, n);
        }
        return out.toByteArray();
    }

    /** The metadata reference of byte {@code pos} of a stream stored by {@link #metaBlocks}. */
    static long ref(long pos) {
        return (pos / 8192 * 8194) << 16 | pos % 8192;
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The common inode header: type, mode, uid 0, gid 0, mtime 0, number. */
    static ByteBuffer inode(int size, int type, int mode, int number) {
        return le(size).putShort((short) type).putShort((short) mode).putShort((short) 0).putShort((short) 0)
                .putInt(0).putInt(number);
    }

    /** An extended directory inode (type 8) of 40 bytes without index. */
    static byte[] ldir(int number, long listingSize, long listingRef, int parent, long xattr) {
        return inode(40, Inode.LDIR, 0755, number).putInt(2).putInt((int) listingSize).putInt((int) (listingRef >>> 16))
                .putInt(parent).putShort((short) 0).putShort((short) (listingRef & 0xFFFF)).putInt((int) xattr).array();
    }

    /** One directory header followed by its entries; all entries' inodes are in one inode block. */
    static void listingHeader(ByteArrayOutputStream out, int count, long inodeBlock, int base) {
        out.writeBytes(le(12).putInt(count - 1).putInt((int) inodeBlock).putInt(base).array());
    }

    static void listingEntry(ByteArrayOutputStream out, int inodeOffset, int delta, int type, byte[] name) {
        out.writeBytes(le(8).putShort((short) inodeOffset).putShort((short) delta).putShort((short) type)
                .putShort((short) (name.length - 1)).array());
        out.writeBytes(name);
    }

    /**
     * Assembles an image from an inode stream and a directory stream; {@code kv} and
     * {@code xattrIds} (the 16-byte id entries) are the xattr tables, or null.
     */
    static byte[] assemble(int inodes, int blockSize, long rootRef, byte[] inodeStream, byte[] dirStream, byte[] kv,
            byte[] xattrIds) {
        ByteArrayOutputStream img = new ByteArrayOutputStream();
        img.writeBytes(new byte[Superblock.SIZE]);
        long inodeTable = img.size();
        img.writeBytes(metaBlocks(inodeStream));
        long dirTable = img.size();
        if (dirStream.length > 0) {
            img.writeBytes(metaBlocks(dirStream));
        }
        long idBlock = img.size();
        img.writeBytes(metaBlocks(new byte[4]));
        long idTable = img.size();
        img.writeBytes(le(8).putLong(idBlock).array());
        long xattrTable = Superblock.ABSENT;
        if (kv != null) {
            long kvStart = img.size();
            img.writeBytes(metaBlocks(kv));
            long idsAt = img.size();
            img.writeBytes(metaBlocks(xattrIds));
            xattrTable = img.size();
            img.writeBytes(le(24).putLong(kvStart).putInt(xattrIds.length / 16).putInt(0).putLong(idsAt).array());
        }
        byte[] b = img.toByteArray();
        byte[] sb = new Superblock(inodes, 0, blockSize, 0, Compression.GZIP, Integer.numberOfTrailingZeros(blockSize), 0, 1,
                rootRef, b.length, idTable, xattrTable, inodeTable, dirTable, Superblock.ABSENT, Superblock.ABSENT).encode();
        System.arraycopy(sb, 0, b, 0, sb.length);
        return b;
    }
}
