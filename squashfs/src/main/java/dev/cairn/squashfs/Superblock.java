package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct squashfs_super_block} (linux {@code fs/squashfs/squashfs_fs.h}), 96 bytes at
 * offset 0. Table starts of absent tables are {@link #ABSENT}.
 *
 * @param inodes          0: number of inodes
 * @param mkfsTime        8: creation time, unsigned epoch seconds
 * @param blockSize       12: data block size, 4 KiB … 1 MiB
 * @param fragments       16: number of fragment blocks
 * @param compression     20: compressor id
 * @param blockLog        22: log2(blockSize)
 * @param flags           24: SQUASHFS_* flags
 * @param ids             26: entries in the uid/gid table
 * @param rootInode       32: inode reference of the root directory
 * @param bytesUsed       40: end of the last table
 * @param idTable         48: id lookup table
 * @param xattrIdTable    56: xattr id table header, or ABSENT
 * @param inodeTable      64: first inode metadata block
 * @param directoryTable  72: first directory metadata block
 * @param fragmentTable   80: fragment lookup table, or ABSENT
 * @param exportTable     88: export (NFS) lookup table, or ABSENT
 */
record Superblock(long inodes, long mkfsTime, int blockSize, long fragments, Compression compression, int blockLog,
                  int flags, int ids, long rootInode, long bytesUsed, long idTable, long xattrIdTable, long inodeTable,
                  long directoryTable, long fragmentTable, long exportTable) {
    static final int SIZE = 96;
    static final int MAGIC = 0x73717368;
    static final long ABSENT = -1L;

    static final int NOI = 0x1;
    static final int NOD = 0x2;
    static final int NOF = 0x8;
    static final int NO_FRAG = 0x10;
    static final int ALWAYS_FRAG = 0x20;
    static final int DUPLICATES = 0x40;
    static final int EXPORTABLE = 0x80;
    static final int NOX = 0x100;
    static final int NO_XATTRS = 0x200;
    static final int COMP_OPT = 0x400;
    static final int NOID = 0x800;

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC);
        b.putInt((int) inodes);
        b.putInt((int) mkfsTime);
        b.putInt(blockSize);
        b.putInt((int) fragments);
        b.putShort((short) compression.id());
        b.putShort((short) blockLog);
        b.putShort((short) flags);
        b.putShort((short) ids);
        b.putShort((short) 4);
        b.putShort((short) 0);
        b.putLong(rootInode);
        b.putLong(bytesUsed);
        b.putLong(idTable);
        b.putLong(xattrIdTable);
        b.putLong(inodeTable);
        b.putLong(directoryTable);
        b.putLong(fragmentTable);
        b.putLong(exportTable);
        return b.array();
    }

    /** Parses and sanity-checks a superblock against the image length. */
    static Superblock decode(byte[] b, long imageLength) throws FormatException {
        if (b.length < SIZE) {
            throw new FormatException(0, "superblock", b.length, "image is smaller than a SquashFS superblock");
        }
        long magic = LittleEndian.u32(b, 0, "s_magic");
        if (magic != (MAGIC & 0xFFFFFFFFL)) {
            throw new FormatException(0, "s_magic", String.format("0x%08x", magic), "not a SquashFS image");
        }
        int major = LittleEndian.u16(b, 28, "s_major");
        int minor = LittleEndian.u16(b, 30, "s_minor");
        if (major != 4 || minor != 0) {
            throw new FormatException(28, "version", major + "." + minor, "only SquashFS 4.0 is supported");
        }
        long blockSize = LittleEndian.u32(b, 12, "block_size");
        int blockLog = LittleEndian.u16(b, 22, "block_log");
        if (blockSize < 4096 || blockSize > (1 << 20) || Long.bitCount(blockSize) != 1) {
            throw new FormatException(12, "block_size", blockSize, "block size must be a power of two from 4 KiB to 1 MiB");
        }
        if ((1L << blockLog) != blockSize) {
            throw new FormatException(22, "block_log", blockLog, "block_log does not match block_size " + blockSize);
        }
        Compression comp = Compression.fromId(LittleEndian.u16(b, 20, "compression"));
        long bytesUsed = LittleEndian.u64(b, 40, "bytes_used");
        if (bytesUsed < SIZE || bytesUsed > imageLength) {
            throw new FormatException(40, "bytes_used", bytesUsed, "filesystem size outside the " + imageLength + "-byte image");
        }
        int ids = LittleEndian.u16(b, 26, "no_ids");
        if (ids == 0) {
            throw new FormatException(26, "no_ids", 0, "an image has at least one uid/gid");
        }
        Superblock sb = new Superblock(LittleEndian.u32(b, 4, "inodes"), LittleEndian.u32(b, 8, "mkfs_time"), (int) blockSize,
                LittleEndian.u32(b, 16, "fragments"), comp, blockLog, LittleEndian.u16(b, 24, "flags"), ids,
                LittleEndian.u64(b, 32, "root_inode"), bytesUsed, LittleEndian.u64(b, 48, "id_table_start"),
                LittleEndian.u64(b, 56, "xattr_id_table_start"), LittleEndian.u64(b, 64, "inode_table_start"),
                LittleEndian.u64(b, 72, "directory_table_start"), LittleEndian.u64(b, 80, "fragment_table_start"),
                LittleEndian.u64(b, 88, "lookup_table_start"));
        sb.checkTable("inode_table_start", 64, sb.inodeTable, false);
        sb.checkTable("directory_table_start", 72, sb.directoryTable, false);
        sb.checkTable("id_table_start", 48, sb.idTable, false);
        sb.checkTable("fragment_table_start", 80, sb.fragmentTable, true);
        sb.checkTable("lookup_table_start", 88, sb.exportTable, true);
        sb.checkTable("xattr_id_table_start", 56, sb.xattrIdTable, true);
        if (sb.inodeTable >= sb.directoryTable) {
            throw new FormatException(64, "inode_table_start", sb.inodeTable, "inode table must precede the directory table");
        }
        if (sb.inodes == 0) {
            throw new FormatException(4, "inodes", 0, "an image has at least the root inode");
        }
        return sb;
    }

    private void checkTable(String field, int at, long start, boolean optional) throws FormatException {
        if (optional && start == ABSENT) {
            return;
        }
        if (start < SIZE || start >= bytesUsed) {
            throw new FormatException(at, field, start, "table start outside the filesystem (bytes_used " + bytesUsed + ")");
        }
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }
}
