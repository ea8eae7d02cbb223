package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.io.IOException;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The xattr tables: key/value metadata blocks from {@code kv_start}, id entries {u64 ref, u32
 * count, u32 size} located through the index after the header {u64 kv_start, u32 ids, u32 0}
 * that the superblock points to (squashfs_fs.h {@code squashfs_xattr_id_table}).
 */
final class XattrReader {
    private static final String[] PREFIXES = {"user.", "trusted.", "security."};
    private static final int MAX_PAIRS = 65536;

    private final ImageChannel image;
    private final long header;
    private final long kvStart;
    private final long count;
    private final MetadataReader kv;
    private final MetadataReader idBlocks;

    XattrReader(ImageChannel image, Codec.Decompressor d, long header, long bytesUsed) throws IOException {
        this.image = image;
        this.header = header;
        byte[] h = image.read(header, 16, "xattr id table header");
        this.kvStart = LittleEndian.u64(h, 0, "xattr_table_start");
        this.count = LittleEndian.u32(h, 8, "xattr_ids");
        if (count == 0) {
            throw new FormatException(header + 8, "xattr_ids", 0, "xattr table present but empty");
        }
        if (kvStart < Superblock.SIZE || kvStart >= header) {
            throw new FormatException(header, "xattr_table_start", kvStart, "xattr data outside the filesystem");
        }
        long indexBytes = (count * 16 + MetadataWriter.BLOCK - 1) / MetadataWriter.BLOCK * 8;
        if (header + 16 + indexBytes > bytesUsed) {
            throw new FormatException(header + 8, "xattr_ids", count, "xattr id index runs past the filesystem");
        }
        this.kv = new MetadataReader(image, d, "xattr table", kvStart, header);
        this.idBlocks = new MetadataReader(image, d, "xattr id table", 0, header);
    }

    long count() {
        return count;
    }

    SortedMap<String, byte[]> read(long index) throws IOException {
        if (index < 0 || index >= count) {
            throw new FormatException("xattr index", index, "outside the " + count + "-entry xattr id table");
        }
        long chunk = index / 512;
        byte[] at = image.read(header + 16 + chunk * 8, 8, "xattr id index");
        long block = LittleEndian.u64(at, 0, "xattr id index");
        if (block < kvStart || block >= header) {
            throw new FormatException(header + 16 + chunk * 8, "xattr id index", block, "xattr id block outside the xattr area");
        }
        MetadataReader.Cursor c = idBlocks.at(block, (int) (index % 512) * 16);
        long ref = c.u64();
        long pairs = c.u32();
        c.u32(); // size of the set (informational)
        if (pairs == 0 || pairs > MAX_PAIRS) {
            throw new FormatException("xattr count", pairs, "xattr set with " + pairs + " entries");
        }
        SortedMap<String, byte[]> out = new TreeMap<>();
        MetadataReader.Cursor k = kv.at(ref);
        for (long i = 0; i < pairs; i++) {
            int type = k.u16();
            int nameLen = k.u16();
            int ns = type & 0xFF;
            if (ns > 2 || (type & ~0x1FF) != 0) {
                throw new FormatException("xattr type", type, "unknown xattr namespace");
            }
            if (nameLen == 0 || nameLen > 255) {
                throw new FormatException("xattr name", nameLen, "xattr name length must be 1..255");
            }
            String name = PREFIXES[ns] + new String(k.bytes(nameLen), java.nio.charset.StandardCharsets.UTF_8);
            long vlen = k.u32();
            byte[] value;
            if ((type & 0x100) != 0) {
                if (vlen != 8) {
                    throw new FormatException("xattr value", name, "out-of-line value reference must be 8 bytes");
                }
                MetadataReader.Cursor v = kv.at(k.u64());
                value = value(v, v.u32(), name);
            } else {
                value = value(k, vlen, name);
            }
            if (out.put(name, value) != null) {
                throw new FormatException("xattr name", name, "duplicate xattr name in one set");
            }
        }
        return out;
    }

    private static byte[] value(MetadataReader.Cursor c, long len, String name) throws IOException {
        if (len > SquashfsImage.MAX_XATTR_VALUE) {
            throw new FormatException("xattr value", name, "xattr value of " + len + " bytes (at most 65536)");
        }
        return c.bytes((int) len);
    }
}
