package dev.cairn.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Sits between a tar stream and its reader and refuses extended headers (PAX {@code x}/{@code g},
 * GNU long names {@code L}/{@code K}) larger than {@link #MAX_EXTENDED_HEADER}: the tar reader
 * reads those into memory whole, so a few compressed megabytes claiming a 2 GB PAX record would
 * exhaust the heap. It follows the archive header by header (ustar size field, or a PAX
 * {@code size} record for the next entry) and steps aside, checking nothing further, at the end
 * of the archive or at anything it does not model (old GNU sparse entries, a header with a bad
 * checksum, a global {@code size}): the reader then decides, as without the guard.
 */
public final class TarHeaderGuard extends FilterInputStream {
    /** Largest extended header passed on: PAX records of names, link targets and xattrs stay far below it. */
    public static final int MAX_EXTENDED_HEADER = 1 << 20;
    private static final int BLOCK = 512;

    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    private long toSkip; // data bytes (with padding) before the next header
    private byte[] extended; // payload of a PAX header being collected, or null
    private int extendedFill;
    private int extendedSize;
    private char extendedType;
    private long nextSize = -1; // a PAX size record for the next entry
    private boolean active = true;
    private long passed;

    public TarHeaderGuard(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            feed(new byte[] {(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            feed(b, off, n);
        }
        return n;
    }

    /** Skips by reading, so every byte passes the guard. */
    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        long done = 0;
        while (done < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    /** Bytes read through the guard so far. */
    public long bytesPassed() {
        return passed;
    }

    private void feed(byte[] b, int off, int len) throws IOException {
        passed += len;
        int i = off;
        int end = off + len;
        while (active && i < end) {
            if (toSkip > 0) {
                int n = (int) Math.min(toSkip, end - i);
                if (extended != null && extendedFill < extendedSize) {
                    int c = Math.min(n, extendedSize - extendedFill);
                    System.arraycopy(b, i, extended, extendedFill, c);
                    extendedFill += c;
                }
                toSkip -= n;
                i += n;
                if (toSkip == 0 && extended != null) {
                    extendedDone();
                }
            } else {
                int c = Math.min(BLOCK - headerFill, end - i);
                System.arraycopy(b, i, header, headerFill, c);
                headerFill += c;
                i += c;
                if (headerFill == BLOCK) {
                    headerFill = 0;
                    headerDone();
                }
            }
        }
    }

    private void headerDone() throws IOException {
        if (isZero(header) || !checksumOk(header)) {
            active = false; // end of archive, or something the reader will judge
            return;
        }
        char type = (char) (header[156] & 0xff);
        long size = number(header, 124, 12);
        if (size < 0 || type == 'S') {
            active = false;
            return;
        }
        switch (type) {
            case 'x', 'g', 'X', 'L', 'K' -> {
                if (size > MAX_EXTENDED_HEADER) {
                    String kind = type == 'L' || type == 'K' ? "GNU long name" : "PAX extended";
                    throw new FormatException("tar header", size, "a " + kind + " header of " + size
                            + " bytes; cairn reads at most " + MAX_EXTENDED_HEADER);
                }
                if (type != 'L' && type != 'K') {
                    extended = new byte[(int) size];
                    extendedFill = 0;
                    extendedSize = (int) size;
                    extendedType = type;
                }
                toSkip = padded(size);
            }
            default -> {
                long data = nextSize >= 0 ? nextSize : size;
                nextSize = -1;
                toSkip = padded(data);
            }
        }
        if (toSkip == 0 && extended != null) {
            extendedDone();
        }
    }

    /** Takes a {@code size} record from a PAX header for the entry that follows it. */
    private void extendedDone() {
        long size = paxSize(extended, extendedSize);
        if (size != -1) {
            if (extendedType == 'g' || size < -1) {
                active = false; // a global size, or one we cannot read: not modelled
            } else {
                nextSize = size;
            }
        }
        extended = null;
    }

    /** The value of the last {@code size} record, -1 without one, -2 when unreadable. */
    static long paxSize(byte[] b, int len) {
        long size = -1;
        int p = 0;
        while (p < len) {
            int sp = p;
            while (sp < len && b[sp] >= '0' && b[sp] <= '9') {
                sp++;
            }
            if (sp == p || sp >= len || b[sp] != ' ' || sp - p > 9) {
                return size == -1 && allZero(b, p, len) ? -1 : -2;
            }
            int recLen = Integer.parseInt(new String(b, p, sp - p, StandardCharsets.US_ASCII));
            int recEnd = p + recLen;
            if (recLen <= sp - p + 1 || recEnd > len) {
                return -2;
            }
            String rec = new String(b, sp + 1, recEnd - sp - 1, StandardCharsets.UTF_8);
            if (rec.startsWith("size=")) {
                try {
                    size = Long.parseLong(rec.substring(5).strip());
                } catch (NumberFormatException e) {
                    return -2;
                }
                if (size < 0) {
                    return -2;
                }
            }
            p = recEnd;
        }
        return size;
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static boolean isZero(byte[] h) {
        return allZero(h, 0, h.length);
    }

    /** The header checksum: the unsigned byte sum with the checksum field read as spaces. */
    private static boolean checksumOk(byte[] h) {
        long stored = number(h, 148, 8);
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
        }
        return stored == sum;
    }

    /** An octal field (NUL/space padded) or a GNU base-256 one; -1 when unreadable. */
    static long number(byte[] h, int off, int len) {
        if ((h[off] & 0x80) != 0) {
            if ((h[off] & 0x40) != 0) {
                return -1; // negative
            }
            long v = h[off] & 0x3f;
            for (int i = 1; i < len; i++) {
                if (v > (Long.MAX_VALUE >>> 8)) {
                    return -1;
                }
                v = (v << 8) | (h[off + i] & 0xff);
            }
            return v;
        }
        int i = off;
        int end = off + len;
        while (i < end && (h[i] == ' ' || h[i] == 0)) {
            i++;
        }
        long v = 0;
        boolean digits = false;
        for (; i < end && h[i] >= '0' && h[i] <= '7'; i++) {
            v = v * 8 + (h[i] - '0');
            digits = true;
        }
        for (; i < end; i++) {
            if (h[i] != ' ' && h[i] != 0) {
                return -1;
            }
        }
        return digits ? v : 0;
    }
}
