package dev.cairn.disk;

import java.util.UUID;

/**
 * GUID byte orders. GPT (and UEFI in general) stores a GUID "mixed-endian": {@code Data1} as a
 * little-endian u32, {@code Data2} and {@code Data3} as little-endian u16, the last 8 bytes as
 * written in the text form. systemd's {@code sd_id128_t} and RFC 4122 use the text order
 * throughout.
 */
final class Guids {
    private Guids() {
    }

    /** The 16 bytes in text (RFC 4122, big-endian) order. */
    static byte[] textOrder(UUID u) {
        byte[] b = new byte[16];
        long msb = u.getMostSignificantBits();
        long lsb = u.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (msb >>> (56 - 8 * i));
            b[8 + i] = (byte) (lsb >>> (56 - 8 * i));
        }
        return b;
    }

    /** A UUID from 16 bytes in text order at {@code off}. */
    static UUID fromTextOrder(byte[] b, int off) {
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = (msb << 8) | (b[off + i] & 0xFF);
            lsb = (lsb << 8) | (b[off + 8 + i] & 0xFF);
        }
        return new UUID(msb, lsb);
    }

    /** Writes {@code u} mixed-endian (GPT on-disk order) at {@code off}. */
    static void putMixedEndian(byte[] dst, int off, UUID u) {
        byte[] t = textOrder(u);
        dst[off] = t[3];
        dst[off + 1] = t[2];
        dst[off + 2] = t[1];
        dst[off + 3] = t[0];
        dst[off + 4] = t[5];
        dst[off + 5] = t[4];
        dst[off + 6] = t[7];
        dst[off + 7] = t[6];
        System.arraycopy(t, 8, dst, off + 8, 8);
    }

    /** Reads a mixed-endian (GPT on-disk order) GUID at {@code off}. */
    static UUID getMixedEndian(byte[] src, int off) {
        byte[] t = new byte[16];
        t[0] = src[off + 3];
        t[1] = src[off + 2];
        t[2] = src[off + 1];
        t[3] = src[off];
        t[4] = src[off + 5];
        t[5] = src[off + 4];
        t[6] = src[off + 7];
        t[7] = src[off + 6];
        System.arraycopy(src, off + 8, t, 8, 8);
        return fromTextOrder(t, 0);
    }

    static final UUID ZERO = new UUID(0, 0);
}
