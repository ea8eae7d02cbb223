package dev.cairn.oci;

import dev.cairn.io.FormatException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Exactly {@code length} bytes of the underlying stream: reads stop there, and an end of the
 * underlying stream before it is a {@link FormatException} (a request body must never go out
 * shorter than the length it announced).
 */
final class ExactLengthInputStream extends FilterInputStream {
    private final long length;
    private final String what;
    private long remaining;

    ExactLengthInputStream(InputStream in, long length, String what) {
        super(in);
        this.length = length;
        this.remaining = length;
        this.what = what;
    }

    @Override
    public int read() throws IOException {
        if (remaining == 0) {
            return -1;
        }
        int c = in.read();
        if (c < 0) {
            throw endedEarly();
        }
        remaining--;
        return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (remaining == 0) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, remaining));
        if (n < 0) {
            throw endedEarly();
        }
        remaining -= n;
        return n;
    }

    private FormatException endedEarly() {
        return new FormatException("size", length, what + " ended after " + (length - remaining) + " of " + length + " bytes");
    }

    @Override
    public long skip(long n) throws IOException {
        long s = in.skip(Math.min(n, remaining));
        remaining -= s;
        return s;
    }

    @Override
    public int available() throws IOException {
        return (int) Math.min(in.available(), remaining);
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
