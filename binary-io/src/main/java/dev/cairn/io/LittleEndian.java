package dev.cairn.io;

/**
 * Little-endian reads and writes on byte arrays with bounds checks that report the field and
 * offset instead of an {@link ArrayIndexOutOfBoundsException}.
 */
public final class LittleEndian {
    private LittleEndian() {
    }

    private static void check(byte[] b, int off, int len, String field) throws FormatException {
        if (off < 0 || len < 0 || off > b.length - len) {
            throw new FormatException(off, field, null, "field lies outside the " + b.length + "-byte buffer");
        }
    }

    public static int u8(byte[] b, int off, String field) throws FormatException {
        check(b, off, 1, field);
        return b[off] & 0xFF;
    }

    public static int u16(byte[] b, int off, String field) throws FormatException {
        check(b, off, 2, field);
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }

    /** Unsigned 32-bit value as a long. */
    public static long u32(byte[] b, int off, String field) throws FormatException {
        check(b, off, 4, field);
        return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
    }

    /** Raw 64-bit value; callers that need it non-negative check {@code < 0}. */
    public static long u64(byte[] b, int off, String field) throws FormatException {
        check(b, off, 8, field);
        return u32(b, off, field) | u32(b, off + 4, field) << 32;
    }

    public static void putU16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }

    public static void putU32(byte[] b, int off, long v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    public static void putU64(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
