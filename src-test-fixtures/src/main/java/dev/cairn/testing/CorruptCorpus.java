package dev.cairn.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Derives corrupt variants of a valid binary (an image, a PE file, …) deterministically from a
 * seed: truncations, single bit flips, overwritten little-endian fields (0, all ones, huge, small
 * off-by-one values) at chosen "hot" offsets (headers, table pointers) and at random offsets.
 * The same (input, seed, count) always gives the same corpus, so a failure is reproducible from
 * its name alone.
 */
public final class CorruptCorpus {
    private CorruptCorpus() {
    }

    /** One corrupt variant and how it was made. */
    public record Sample(String name, byte[] bytes) {
    }

    /**
     * @param hot offsets worth attacking on purpose (e.g. every superblock field); others are random
     */
    public static List<Sample> derive(String base, byte[] valid, long seed, int count, int[] hot) {
        Random r = new Random(seed);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int kind = i % 5;
            byte[] b = valid.clone();
            String what;
            switch (kind) {
                case 0 -> {
                    int len = r.nextInt(valid.length);
                    b = Arrays.copyOf(valid, len);
                    what = "truncate@" + len;
                }
                case 1 -> {
                    int at = r.nextInt(valid.length);
                    int bit = r.nextInt(8);
                    b[at] ^= (byte) (1 << bit);
                    what = "flip@" + at + "." + bit;
                }
                case 2, 3 -> {
                    int at = hot.length > 0 && kind == 2 ? hot[r.nextInt(hot.length)] : r.nextInt(Math.max(1, valid.length - 8));
                    int width = new int[] {2, 4, 8}[r.nextInt(3)];
                    long v = switch (r.nextInt(6)) {
                        case 0 -> 0;
                        case 1 -> -1L;
                        case 2 -> 1L << (8 * width - 2);
                        case 3 -> get(valid, at, width) + 1;
                        case 4 -> get(valid, at, width) - 1;
                        default -> r.nextLong();
                    };
                    put(b, at, width, v);
                    what = "set" + width + "@" + at + "=" + Long.toHexString(v);
                }
                default -> {
                    int at = r.nextInt(valid.length);
                    int len = Math.min(valid.length - at, 1 + r.nextInt(64));
                    byte[] junk = new byte[len];
                    r.nextBytes(junk);
                    System.arraycopy(junk, 0, b, at, len);
                    what = "junk@" + at + "+" + len;
                }
            }
            out.add(new Sample(base + "#" + i + "-" + what, b));
        }
        return out;
    }

    private static long get(byte[] b, int at, int width) {
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = (v << 8) | (at + i < b.length ? b[at + i] & 0xff : 0);
        }
        return v;
    }

    private static void put(byte[] b, int at, int width, long v) {
        for (int i = 0; i < width && at + i < b.length; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }
}
