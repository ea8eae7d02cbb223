package dev.cairn.uki.pe;

/**
 * The optional header's CheckSum (the algorithm of Windows' {@code CheckSumMappedFile}, as sbsign
 * computes it): the one's-complement sum of all 16-bit little-endian words of the file, the
 * CheckSum field itself read as zero, folded to 16 bits, plus the file length.
 *
 * <p>Fed in file order, possibly in pieces of any length. Because the sum is associative, a field
 * written as zero and patched later is accounted for with {@link #addWordsAt}.
 */
public final class PeChecksum {
    private long sum;
    private long length;

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Adds bytes that lie at file offset {@link #length()} (the next ones in file order). */
    public void update(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        if ((length & 1) != 0 && i < end) {
            sum += (b[i++] & 0xFFL) << 8;
        }
        long s = 0;
        // 2^16 ≡ 1 (mod 2^16 - 1), the modulus of the folded one's-complement sum: a 64-bit load of
        // four words counts as its two 32-bit halves (each < 2^32: no overflow below 2^34 bytes a call)
        for (; i + 7 < end; i += 8) {
            long v = (long) LONGS.get(b, i);
            s += (v >>> 32) + (v & 0xFFFF_FFFFL);
        }
        for (; i + 1 < end; i += 2) {
            s += (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
        }
        if (i < end) {
            s += b[i] & 0xFFL;
        }
        sum += s;
        length += len;
    }

    /** Adds {@code n} zero bytes (padding): they change the length but not the sum. */
    public void updateZeros(long n) {
        length += n;
    }

    /** Accounts for bytes that replace zeros at an earlier offset of the file. */
    public void addWordsAt(long fileOffset, byte[] b) {
        for (int i = 0; i < b.length; i++) {
            addByteAt(fileOffset + i, b[i]);
        }
    }

    private void addByteAt(long offset, byte v) {
        long x = v & 0xFFL;
        sum += (offset & 1) == 0 ? x : x << 8;
    }

    private static long fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return s;
    }

    public long length() {
        return length;
    }

    /** The CheckSum value for a file of {@link #length()} bytes. */
    public long value() {
        return (fold(sum) + length) & 0xFFFF_FFFFL;
    }

    /** Checksum of a whole in-memory image whose CheckSum field is at {@code checksumOffset}. */
    public static long of(byte[] image, int checksumOffset) {
        PeChecksum c = new PeChecksum();
        c.update(image, 0, checksumOffset);
        c.updateZeros(4);
        c.update(image, checksumOffset + 4, image.length - checksumOffset - 4);
        return c.value();
    }
}
