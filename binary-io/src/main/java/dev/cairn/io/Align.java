package dev.cairn.io;

/** Power-of-two alignment arithmetic. */
public final class Align {
    private Align() {
    }

    public static boolean isPowerOfTwo(long v) {
        return v > 0 && (v & (v - 1)) == 0;
    }

    /** Smallest multiple of {@code alignment} (a power of two) that is {@code >= v}. */
    public static long up(long v, long alignment) {
        if (!isPowerOfTwo(alignment)) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        if (v < 0) {
            throw new IllegalArgumentException("negative value: " + v);
        }
        return Math.addExact(v, alignment - 1) & -alignment;
    }

    /** {@code ceil(a / b)} for non-negative a and positive b. */
    public static long ceilDiv(long a, long b) {
        if (a < 0 || b <= 0) {
            throw new IllegalArgumentException("ceilDiv(" + a + ", " + b + ")");
        }
        return a / b + (a % b == 0 ? 0 : 1);
    }

    /** log2 of a power of two. */
    public static int log2(long powerOfTwo) {
        if (!isPowerOfTwo(powerOfTwo)) {
            throw new IllegalArgumentException("not a power of two: " + powerOfTwo);
        }
        return Long.numberOfTrailingZeros(powerOfTwo);
    }
}
