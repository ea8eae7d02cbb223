package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional reads from an image, each checked against the filesystem's end ({@code bytes_used}). */
final class ImageChannel {
    /** Largest single read: a 1 MiB data block or an 8 KiB metadata block, plus headers. */
    static final int MAX_READ = (1 << 20) + 16;

    private final FileChannel channel;
    private long limit;

    ImageChannel(FileChannel channel, long limit) {
        this.channel = channel;
        this.limit = limit;
    }

    void limit(long newLimit) {
        this.limit = newLimit;
    }

    long limit() {
        return limit;
    }

    byte[] read(long offset, int len, String field) throws IOException {
        if (offset < 0 || len < 0 || len > MAX_READ || offset > limit - len) {
            throw new FormatException(offset, field, len, "read of " + len + " bytes at " + offset
                    + " runs outside the filesystem (" + limit + " bytes)");
        }
        byte[] b = new byte[len];
        ByteBuffer buf = ByteBuffer.wrap(b);
        long pos = offset;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                throw new EOFException("image truncated at " + pos + " while reading " + field);
            }
            pos += n;
        }
        return b;
    }
}
