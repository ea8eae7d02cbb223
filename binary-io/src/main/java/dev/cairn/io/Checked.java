package dev.cairn.io;

/**
 * Narrowing conversions that never lose bits silently. Each names the field it converts so a
 * failure says what overflowed.
 */
public final class Checked {
    private Checked() {
    }

    public static final long U32_MAX = 0xFFFF_FFFFL;

    /** {@code v} as an unsigned 32-bit value (returned in an int), or a FormatException. */
    public static int u32(String field, long v) throws FormatException {
        if (v < 0 || v > U32_MAX) {
            throw new FormatException(field, v, "value does not fit in 32 unsigned bits");
        }
        return (int) v;
    }

    /** {@code v} as an unsigned 16-bit value (returned in a short), or a FormatException. */
    public static short u16(String field, long v) throws FormatException {
        if (v < 0 || v > 0xFFFF) {
            throw new FormatException(field, v, "value does not fit in 16 unsigned bits");
        }
        return (short) v;
    }

    /** {@code v} as a non-negative int (an array size or index), or a FormatException. */
    public static int intSize(String field, long v) throws FormatException {
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new FormatException(field, v, "size out of range");
        }
        return (int) v;
    }

    /** Unsigned value of a 32-bit int as a long. */
    public static long unsigned(int v) {
        return Integer.toUnsignedLong(v);
    }
}
