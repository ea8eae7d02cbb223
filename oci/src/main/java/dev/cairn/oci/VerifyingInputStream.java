package dev.cairn.oci;

import dev.cairn.io.FormatException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Passes bytes through while hashing and counting them; at end of stream (or when more than the
 * expected size arrives) it throws a {@link FormatException} unless size and digest match, so a
 * consumer never sees a tampered blob complete successfully.
 */
public final class VerifyingInputStream extends FilterInputStream {
    private final Digest expected;
    private final long expectedSize;
    private final MessageDigest md;
    private final String what;
    private long count;
    private boolean checked;

    public VerifyingInputStream(InputStream in, Digest expected, long expectedSize, String what) {
        super(in);
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.md = expected.newHasher();
        this.what = what;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n < 0) {
            check();
            return -1;
        }
        md.update(b, off, n);
        count += n;
        if (expectedSize >= 0 && count > expectedSize) {
            throw new FormatException(what, expected, "more than the expected " + expectedSize + " bytes");
        }
        return n;
    }

    private void check() throws FormatException {
        if (checked) {
            return;
        }
        checked = true;
        if (expectedSize >= 0 && count != expectedSize) {
            throw new FormatException(what, expected, "size is " + count + " bytes, the descriptor says " + expectedSize);
        }
        byte[] h = md.digest();
        if (!expected.matches(h)) {
            throw new FormatException(what, expected, "content does not match its digest (it hashes to "
                    + expected.algorithm() + ":" + java.util.HexFormat.of().formatHex(h) + ")");
        }
    }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("skip would bypass digest verification");
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
