package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads records from one metadata table (a run of 8 KiB metadata blocks) of a hostile image.
 * Every block must lie inside {@code [start, end)}, declare a length of 1…8192 bytes and expand to
 * at most 8192 bytes. Decoded blocks are kept in a small LRU cache, so memory is bounded whatever
 * the table size.
 */
final class MetadataReader {
    private static final int CACHE = 64;

    private final ImageChannel image;
    private final Codec.Decompressor decompressor;
    private final String table;
    private final long start;
    private final long end;
    private final Map<Long, Block> cache = new LinkedHashMap<>(CACHE * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Block> eldest) {
            return size() > CACHE;
        }
    };

    /** A decoded block and its on-disk length (header included). */
    private record Block(byte[] data, int diskLength) {
    }

    MetadataReader(ImageChannel image, Codec.Decompressor decompressor, String table, long start, long end) {
        this.image = image;
        this.decompressor = decompressor;
        this.table = table;
        this.start = start;
        this.end = end;
    }

    /** A cursor at {@code blockOffset} (relative to the table start) and {@code offset} within that block. */
    Cursor at(long blockOffset, int offset) throws IOException {
        Cursor c = new Cursor(blockOffset);
        byte[] b = c.block();
        if (offset < 0 || offset >= b.length) {
            throw new FormatException(start + blockOffset, table + " reference", offset,
                    "offset outside the " + b.length + "-byte metadata block");
        }
        c.pos = offset;
        return c;
    }

    /** A cursor at a metadata reference {@code (block offset << 16) | offset}. */
    Cursor at(long ref) throws IOException {
        return at(ref >>> 16, (int) (ref & 0xFFFF));
    }

    /**
     * An upper bound on the bytes {@code c} can still read: the rest of its block, then 8192 for
     * every 3 bytes left in the table (the smallest block on disk: a header and one byte).
     */
    long maxRemaining(Cursor c) throws IOException {
        Block b = load(c.blockOffset);
        long next = start + c.blockOffset + b.diskLength();
        return b.data().length - c.pos + Math.max(0, end - next) / 3 * MetadataWriter.BLOCK;
    }

    private Block load(long blockOffset) throws IOException {
        Block cached = cache.get(blockOffset);
        if (cached != null) {
            return cached;
        }
        byte[] b;
        long abs = start + blockOffset;
        if (blockOffset < 0 || abs + 2 > end) {
            throw new FormatException(abs, table, blockOffset, "metadata block outside its table");
        }
        byte[] h = image.read(abs, 2, table + " block header");
        int header = (h[0] & 0xff) | (h[1] & 0xff) << 8;
        int len = header & 0x7FFF;
        boolean raw = (header & 0x8000) != 0;
        if (len == 0 || len > MetadataWriter.BLOCK) {
            throw new FormatException(abs, table + " block length", len, "metadata block length must be 1..8192");
        }
        if (abs + 2 + len > end) {
            throw new FormatException(abs, table + " block length", len, "metadata block runs past the end of its table");
        }
        byte[] data = image.read(abs + 2, len, table + " block");
        if (raw) {
            b = data;
        } else {
            byte[] out = new byte[MetadataWriter.BLOCK];
            int n;
            try {
                n = decompressor.decompress(data, 0, len, out);
            } catch (FormatException e) {
                throw new FormatException(abs, table + " block", null, e.getMessage());
            }
            b = java.util.Arrays.copyOf(out, n);
        }
        if (b.length == 0) {
            throw new FormatException(abs, table + " block", 0, "empty metadata block");
        }
        Block block = new Block(b, 2 + len);
        cache.put(blockOffset, block);
        return block;
    }

    /** Sequential reader across metadata blocks. */
    final class Cursor {
        private long blockOffset;
        private int pos;

        private Cursor(long blockOffset) {
            this.blockOffset = blockOffset;
        }

        private byte[] block() throws IOException {
            return load(blockOffset).data();
        }

        /** Current reference (block offset relative to the table, offset in block). */
        long blockOffset() {
            return blockOffset;
        }

        int offset() {
            return pos;
        }

        void read(byte[] dst, int off, int len) throws IOException {
            int done = 0;
            while (done < len) {
                byte[] b = block();
                if (pos >= b.length) {
                    blockOffset += load(blockOffset).diskLength();
                    pos = 0;
                    continue;
                }
                int n = Math.min(len - done, b.length - pos);
                System.arraycopy(b, pos, dst, off + done, n);
                pos += n;
                done += n;
            }
        }

        byte[] bytes(int len) throws IOException {
            byte[] b = new byte[len];
            read(b, 0, len);
            return b;
        }

        int u16() throws IOException {
            byte[] b = bytes(2);
            return (b[0] & 0xff) | (b[1] & 0xff) << 8;
        }

        short s16() throws IOException {
            return (short) u16();
        }

        long u32() throws IOException {
            byte[] b = bytes(4);
            return ((b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24);
        }

        long u64() throws IOException {
            long lo = u32();
            long hi = u32();
            return lo | hi << 32;
        }

        void skip(long n) throws IOException {
            long left = n;
            while (left > 0) {
                byte[] b = block();
                if (pos >= b.length) {
                    blockOffset += load(blockOffset).diskLength();
                    pos = 0;
                    continue;
                }
                int k = (int) Math.min(left, b.length - pos);
                pos += k;
                left -= k;
            }
        }
    }
}
