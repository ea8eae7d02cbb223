package dev.cairn.erofs;

/**
 * XXH32 (Yann Collet's xxHash, 32-bit variant) of a whole byte range: EROFS's xattr name filter
 * hashes each xattr name (without its prefix) with it.
 */
final class Xxh32 {
    private static final int P1 = 0x9E3779B1;
    private static final int P2 = 0x85EBCA77;
    private static final int P3 = 0xC2B2AE3D;
    private static final int P4 = 0x27D4EB2F;
    private static final int P5 = 0x165667B1;

    private Xxh32() {
    }

    private static int le32(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }

    private static int round(int acc, int input) {
        acc += input * P2;
        acc = Integer.rotateLeft(acc, 13);
        return acc * P1;
    }

    static int hash(byte[] b, int off, int len, int seed) {
        int p = off;
        int end = off + len;
        int h;
        if (len >= 16) {
            int v1 = seed + P1 + P2;
            int v2 = seed + P2;
            int v3 = seed;
            int v4 = seed - P1;
            int limit = end - 16;
            do {
                v1 = round(v1, le32(b, p));
                v2 = round(v2, le32(b, p + 4));
                v3 = round(v3, le32(b, p + 8));
                v4 = round(v4, le32(b, p + 12));
                p += 16;
            } while (p <= limit);
            h = Integer.rotateLeft(v1, 1) + Integer.rotateLeft(v2, 7) + Integer.rotateLeft(v3, 12)
                    + Integer.rotateLeft(v4, 18);
        } else {
            h = seed + P5;
        }
        h += len;
        while (p + 4 <= end) {
            h += le32(b, p) * P3;
            h = Integer.rotateLeft(h, 17) * P4;
            p += 4;
        }
        while (p < end) {
            h += (b[p] & 0xFF) * P5;
            h = Integer.rotateLeft(h, 11) * P1;
            p++;
        }
        h ^= h >>> 15;
        h *= P2;
        h ^= h >>> 13;
        h *= P3;
        h ^= h >>> 16;
        return h;
    }
}
