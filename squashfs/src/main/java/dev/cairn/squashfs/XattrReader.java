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
    /** Most bytes of names in one set, each full name with its NUL (Linux XATTR_LIST_MAX). */
    static final int MAX_SET_NAMES = 65536;
    /**
     * Most bytes one set may decode to, counted as mksquashfs counts its size field: full names
     * with their NULs plus the values. Out-of-line values are references, so without this bound
     * a few KiB of records could expand to 64 KiB each.
     */
    static final int MAX_SET_BYTES = 1 << 20;

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
        // Writers disagree on what the size field counts (mksquashfs: names with NULs plus values;
        // squashfs-tools-ng: the bytes of the set's records), so it is a bound, not a checksum.
        long recorded = c.u32();
        if (pairs == 0 || pairs > MAX_PAIRS) {
            throw new FormatException("xattr count", pairs, "xattr set with " + pairs + " entries");
        }
        if (recorded > MAX_SET_BYTES) {
            throw new FormatException("xattr size", recorded, "xattr set of " + recorded + " bytes (at most " + MAX_SET_BYTES + ")");
        }
        long nameBytes = 0;
        long total = 0;
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
            byte[] shortName = k.bytes(nameLen);
            String name = PREFIXES[ns] + new String(shortName, java.nio.charset.StandardCharsets.UTF_8);
            nameBytes += PREFIXES[ns].length() + nameLen + 1;
            if (nameBytes > MAX_SET_NAMES) {
                throw new FormatException("xattr name", name, "xattr set names exceed " + MAX_SET_NAMES + " bytes");
            }
            long vlen = k.u32();
            MetadataReader.Cursor v = k;
            if ((type & 0x100) != 0) {
                if (vlen != 8) {
                    throw new FormatException("xattr value", name, "out-of-line value reference must be 8 bytes");
                }
                v = kv.at(k.u64());
                vlen = v.u32();
            }
            if (vlen > SquashfsImage.MAX_XATTR_VALUE) {
                throw new FormatException("xattr value", name, "xattr value of " + vlen + " bytes (at most 65536)");
            }
            total += PREFIXES[ns].length() + nameLen + 1 + vlen;
            if (total > MAX_SET_BYTES) {
                throw new FormatException("xattr set", index, "xattr set decodes to more than " + MAX_SET_BYTES + " bytes");
            }
            byte[] value = v.bytes((int) vlen);
            if (out.put(name, value) != null) {
                throw new FormatException("xattr name", name, "duplicate xattr name in one set");
            }
        }
        return out;
    }
}
