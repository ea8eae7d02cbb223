package dev.cairn.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.util.Map;
import java.util.TreeMap;

/**
 * A read-only in-memory image for the corrupt-input corpora: a base array, patches laid over it
 * and an optional shorter length (a truncated file) — so hundreds of corrupt variants of a 33 MiB
 * image need no copies of it.
 */
final class MemChannel implements SeekableByteChannel {
    private final byte[] base;
    private final TreeMap<Long, byte[]> patches;
    private final long size;
    private long position;
    private boolean open = true;

    MemChannel(byte[] base) {
        this(base, new TreeMap<>(), base.length);
    }

    MemChannel(byte[] base, TreeMap<Long, byte[]> patches, long size) {
        this.base = base;
        this.patches = patches;
        this.size = size;
    }

    /** This image with {@code bytes} written at {@code offset} (on top of earlier patches). */
    MemChannel patch(long offset, byte[] bytes) {
        TreeMap<Long, byte[]> p = new TreeMap<>(patches);
        p.put(offset, bytes.clone());
        return new MemChannel(base, p, size);
    }

    MemChannel cut(long length) {
        return new MemChannel(base, patches, Math.min(size, length));
    }

    /** The byte at {@code pos} with patches applied (later patches win). */
    int at(long pos) {
        int v = base[(int) pos] & 0xFF;
        for (Map.Entry<Long, byte[]> e : patches.entrySet()) {
            long o = e.getKey();
            if (pos >= o && pos < o + e.getValue().length) {
                v = e.getValue()[(int) (pos - o)] & 0xFF;
            }
        }
        return v;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        if (position >= size) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), size - position);
        int start = dst.position();
        dst.put(base, (int) position, n);
        for (Map.Entry<Long, byte[]> e : patches.entrySet()) {
            long o = e.getKey();
            byte[] b = e.getValue();
            long from = Math.max(o, position);
            long to = Math.min(o + b.length, position + n);
            for (long p = from; p < to; p++) {
                dst.put(start + (int) (p - position), b[(int) (p - o)]);
            }
        }
        position += n;
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public SeekableByteChannel position(long newPosition) {
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position");
        }
        position = newPosition;
        return this;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public SeekableByteChannel truncate(long s) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
    }
}
