package dev.cairn.squashfs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A cheap test, run before a slow compressor, for blocks that are already compressed or
 * encrypted: bytes spread evenly over all 256 values and no repeated 8-byte strings. LZMA cannot
 * shrink such a block by more than a few bytes, so it goes to disk raw at once instead of after a
 * full LZMA pass that mksquashfs would throw away too. The test is a pure function of the bytes
 * (integer arithmetic only), so images stay reproducible. One instance per thread.
 *
 * <p>Measured on the 128 KiB blocks of the bench tree (bench/squashfs.sh): random data scores a
 * chi-square of about 255 ± 23 against a uniform byte distribution, gzip members 300-1000, text and
 * code far more. Every block at or below {@value #MAX_CHI_SQUARE} with fewer than one repeated
 * 8-byte string per 256 positions (334 blocks, 42 MiB) compressed with xz to at least 99.97 % of
 * its size (those above it: at most 437 repeats); the only blocks xz shrinks by more (2-7 %) that
 * score as low, from a weakly gzipped PostScript manual, repeat 8-byte strings at 1 300-3 900
 * positions.
 */
final class IncompressibleProbe {
    /** Below this size the probe is not worth it and the statistic is too noisy. */
    static final int MIN_LENGTH = 4096;
    /** Largest chi-square statistic of the byte histogram (255 degrees of freedom) still taken as uniform. */
    static final int MAX_CHI_SQUARE = 1000;
    private static final int HASH_BITS = 14;
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int[] histogram = new int[256];
    private final int[] lastSeen = new int[1 << HASH_BITS];

    /** Whether {@code b[off, off+len)} looks incompressible: evenly spread bytes and (almost) no repeats. */
    boolean looksIncompressible(byte[] b, int off, int len) {
        if (len < MIN_LENGTH) {
            return false;
        }
        return chiSquare(b, off, len) <= MAX_CHI_SQUARE && repeatedPositions(b, off, len) < len / 256;
    }

    /** Pearson's chi-square of the byte histogram against 256 equally likely values. */
    long chiSquare(byte[] b, int off, int len) {
        Arrays.fill(histogram, 0);
        for (int i = off, end = off + len; i < end; i++) {
            histogram[b[i] & 0xff]++;
        }
        long sumOfSquares = 0;
        for (int c : histogram) {
            sumOfSquares += (long) c * c;
        }
        // sum((c - n/256)^2 / (n/256)) = (256 * sum(c^2) - n^2) / n
        return (256 * sumOfSquares - (long) len * len) / len;
    }

    /** Positions whose next 8 bytes equal those at the last earlier position with the same hash. */
    int repeatedPositions(byte[] b, int off, int len) {
        Arrays.fill(lastSeen, -1);
        int hits = 0;
        for (int i = off, last = off + len - 8; i <= last; i++) {
            long v = (long) LONG_LE.get(b, i);
            int h = (int) ((v * 0x9E3779B97F4A7C15L) >>> (64 - HASH_BITS));
            int j = lastSeen[h];
            lastSeen[h] = i;
            if (j >= 0 && (long) LONG_LE.get(b, j) == v) {
                hits++;
            }
        }
        return hits;
    }
}
