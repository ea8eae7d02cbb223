package dev.cairn.squashfs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Streams records into 8 KiB metadata blocks (each stored as a u16 header + payload, bit 15 set
 * when stored uncompressed), compressing each block as soon as it is full. References are
 * {@code (block offset relative to the table << 16) | offset in the uncompressed block}.
 */
final class MetadataWriter {
    static final int BLOCK = 8192;

    private final Codec.Compressor compressor;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final byte[] chunk = new byte[BLOCK];
    private int fill;
    private long uncompressed;

    MetadataWriter(Codec.Compressor compressor) {
        this.compressor = compressor;
    }

    /** Reference of the next byte written. */
    long ref() {
        return ((long) out.size() << 16) | fill;
    }

    /** Offset of the current block relative to the table start. */
    long blockStart() {
        return out.size();
    }

    /** Offset of the next byte in the uncompressed stream of this table. */
    long position() {
        return uncompressed;
    }

    int offsetInBlock() {
        return fill;
    }

    void write(byte[] b) throws IOException {
        write(b, 0, b.length);
    }

    void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, BLOCK - fill);
            System.arraycopy(b, off, chunk, fill, n);
            fill += n;
            off += n;
            len -= n;
            uncompressed += n;
            if (fill == BLOCK) {
                flush();
            }
        }
    }

    private void flush() throws IOException {
        if (fill == 0) {
            return;
        }
        byte[] c = compressor.compress(chunk, 0, fill);
        ByteBuffer h = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
        if (c == null) {
            h.putShort((short) (0x8000 | fill));
            out.write(h.array());
            out.write(chunk, 0, fill);
        } else {
            h.putShort((short) c.length);
            out.write(h.array());
            out.write(c);
        }
        fill = 0;
    }

    /** Flushes the last partial block and returns the table's bytes. */
    byte[] finish() throws IOException {
        flush();
        return out.toByteArray();
    }

    /**
     * A lookup table (fragment, export, id): the entries in metadata blocks at {@code start},
     * then the u64 array of those blocks' absolute offsets. Returns {@code [blocks, index]}.
     */
    static byte[][] lookupTable(byte[] entries, Codec.Compressor compressor, long start) throws IOException {
        MetadataWriter w = new MetadataWriter(compressor);
        int blocks = (entries.length + BLOCK - 1) / BLOCK;
        ByteBuffer index = ByteBuffer.allocate(blocks * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < blocks; i++) {
            index.putLong(start + w.blockStart());
            int n = Math.min(BLOCK, entries.length - i * BLOCK);
            w.write(entries, i * BLOCK, n);
        }
        return new byte[][] {w.finish(), index.array()};
    }
}
