package dev.cairn.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.security.MessageDigest;

/** Sequential output that counts and digests (on the calling thread) what it writes. */
final class DigestingOutput {
    private static final byte[] ZEROS = new byte[GptWriter.BUFFER];
    private final SeekableByteChannel out;
    private final MessageDigest digest;
    long written;

    DigestingOutput(SeekableByteChannel out, MessageDigest digest) {
        this.out = out;
        this.digest = digest;
    }

    void write(byte[] b) throws IOException {
        write(ByteBuffer.wrap(b));
    }

    void write(ByteBuffer b) throws IOException {
        int len = b.remaining();
        digest.update(b.duplicate());
        while (b.hasRemaining()) {
            out.write(b);
        }
        written += len;
    }

    void zeros(long n) throws IOException {
        if (n < 0) {
            throw new IllegalStateException("negative gap: " + n);
        }
        while (n > 0) {
            int k = (int) Math.min(n, ZEROS.length);
            write(ByteBuffer.wrap(ZEROS, 0, k));
            n -= k;
        }
    }
}
