package dev.cairn.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.SplittableRandom;

/** Deterministic test data from seeds (never /dev/random). */
public final class SeededData {
    private SeededData() {
    }

    public static byte[] bytes(long seed, int length) {
        byte[] b = new byte[length];
        fill(new SplittableRandom(seed), b, length);
        return b;
    }

    private static void fill(SplittableRandom r, byte[] b, int n) {
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            long v = r.nextLong();
            for (int k = 0; k < 8; k++) {
                b[i + k] = (byte) (v >>> (8 * k));
            }
        }
        if (i < n) {
            long v = r.nextLong();
            for (int k = 0; i < n; k++, i++) {
                b[i] = (byte) (v >>> (8 * k));
            }
        }
    }

    /** Streams {@code length} seeded bytes to {@code file}. */
    public static void writeFile(Path file, long seed, long length) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = length; left > 0; ) {
                int n = (int) Math.min(buf.length, left);
                fill(r, buf, n);
                out.write(buf, 0, n);
                left -= n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Block i filled with byte (i & 0xff): the reference's D10/D300 inputs. */
    public static byte[] blockPattern(int blocks, int blockSize) {
        byte[] b = new byte[Math.multiplyExact(blocks, blockSize)];
        for (int i = 0; i < blocks; i++) {
            java.util.Arrays.fill(b, i * blockSize, (i + 1) * blockSize, (byte) i);
        }
        return b;
    }

    public static Random random(long seed) {
        return new Random(seed);
    }
}
