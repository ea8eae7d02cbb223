package dev.cairn.io;

import java.security.MessageDigest;

/**
 * SHA-256 (FIPS 180-4) in plain Java, as a {@link MessageDigest} made without the JCA: for the
 * small inputs of short commands. A JVM's first {@code MessageDigest.getInstance("SHA-256")} sets
 * up the security providers (reading java.security, registering the Sun provider's services) and
 * its first digest the JDK's byte-array VarHandles: some 20 ms of a command that is over in 80.
 * The JDK's own implementation is the faster one once compiled (the JIT replaces its compression
 * function with the CPU's SHA instructions), so large inputs keep it: {@link #forSize} chooses.
 * Not thread-safe, like any MessageDigest; {@link #clone} copies the state.
 */
public final class Sha256 extends MessageDigest implements Cloneable {
    /**
     * Inputs up to this many bytes get this class from {@link #forSize}: below it, the JCA's
     * set-up costs more than the JDK's faster hashing saves (both run interpreted at first).
     */
    public static final long SMALL = 1 << 20;

    private static final int[] K = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    };

    private int[] h = new int[8];
    private int[] w = new int[64];
    private byte[] buffer = new byte[64];
    private int buffered;
    private long length;

    public Sha256() {
        super("SHA-256");
        engineReset();
    }

    /**
     * A SHA-256 digest for about {@code bytes} bytes of input: this class up to {@link #SMALL}, the
     * JDK's above (or when the size is not known: a negative {@code bytes}).
     */
    public static MessageDigest forSize(long bytes) {
        if (bytes >= 0 && bytes <= SMALL) {
            return new Sha256();
        }
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /**
     * Starts, on a daemon thread, what the JDK's SHA-256 needs before it hashes at full speed: the
     * security providers' set-up (some 10 ms, otherwise paid by the caller's first digest) and a
     * few calls of its multi-block loop, which the JIT compiles with the CPU's SHA instructions only
     * once that loop has been called often enough. For a command about to hash tens of megabytes
     * (a UKI's initrd): begun while the command still parses its inputs, the compiled loop is ready
     * when the bulk arrives instead of after the first few megabytes were hashed in plain Java code
     * (bench/uki.sh, 72 MB: 40-50 instead of 75-95 ms of hashing, with the launcher's threshold for
     * that loop). Returns at once; costs the caller nothing if the digest is never used.
     */
    public static void warmJdkDigest() {
        Thread t = new Thread(new JdkWarmUp(), "cairn-sha-warm");
        t.setDaemon(true);
        t.start();
    }

    /** {@link #warmJdkDigest}'s work (a class, not a lambda: linking one costs the caller's thread in a fresh JVM). */
    private static final class JdkWarmUp implements Runnable {
        @Override
        public void run() {
            MessageDigest md = forSize(-1);
            byte[] chunk = new byte[8 << 10];
            for (int i = 0; i < 8; i++) {
                md.update(chunk);
            }
            md.digest();
        }
    }

    @Override
    protected int engineGetDigestLength() {
        return 32;
    }

    @Override
    protected void engineReset() {
        h[0] = 0x6a09e667;
        h[1] = 0xbb67ae85;
        h[2] = 0x3c6ef372;
        h[3] = 0xa54ff53a;
        h[4] = 0x510e527f;
        h[5] = 0x9b05688c;
        h[6] = 0x1f83d9ab;
        h[7] = 0x5be0cd19;
        buffered = 0;
        length = 0;
    }

    @Override
    protected void engineUpdate(byte input) {
        buffer[buffered++] = input;
        length++;
        if (buffered == 64) {
            compress(buffer, 0);
            buffered = 0;
        }
    }

    @Override
    protected void engineUpdate(byte[] input, int offset, int len) {
        if (offset < 0 || len < 0 || offset > input.length - len) {
            throw new ArrayIndexOutOfBoundsException("offset " + offset + ", length " + len + " in " + input.length + " bytes");
        }
        length += len;
        if (buffered > 0) {
            int n = Math.min(len, 64 - buffered);
            System.arraycopy(input, offset, buffer, buffered, n);
            buffered += n;
            offset += n;
            len -= n;
            if (buffered < 64) {
                return;
            }
            compress(buffer, 0);
            buffered = 0;
        }
        while (len >= 64) {
            compress(input, offset);
            offset += 64;
            len -= 64;
        }
        System.arraycopy(input, offset, buffer, 0, len);
        buffered = len;
    }

    @Override
    protected byte[] engineDigest() {
        long bits = length << 3;
        byte[] pad = new byte[(buffered < 56 ? 56 : 120) - buffered + 8];
        pad[0] = (byte) 0x80;
        for (int i = 0; i < 8; i++) {
            pad[pad.length - 1 - i] = (byte) (bits >>> (8 * i));
        }
        engineUpdate(pad, 0, pad.length);
        byte[] out = new byte[32];
        for (int i = 0; i < 8; i++) {
            out[4 * i] = (byte) (h[i] >>> 24);
            out[4 * i + 1] = (byte) (h[i] >>> 16);
            out[4 * i + 2] = (byte) (h[i] >>> 8);
            out[4 * i + 3] = (byte) h[i];
        }
        engineReset();
        return out;
    }

    private void compress(byte[] block, int at) {
        int[] w = this.w;
        for (int t = 0; t < 16; t++) {
            int i = at + 4 * t;
            w[t] = (block[i] << 24) | (block[i + 1] & 0xff) << 16 | (block[i + 2] & 0xff) << 8 | (block[i + 3] & 0xff);
        }
        for (int t = 16; t < 64; t++) {
            int x = w[t - 15];
            int y = w[t - 2];
            int s0 = Integer.rotateRight(x, 7) ^ Integer.rotateRight(x, 18) ^ (x >>> 3);
            int s1 = Integer.rotateRight(y, 17) ^ Integer.rotateRight(y, 19) ^ (y >>> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        int a = h[0];
        int b = h[1];
        int c = h[2];
        int d = h[3];
        int e = h[4];
        int f = h[5];
        int g = h[6];
        int hh = h[7];
        for (int t = 0; t < 64; t++) {
            int s1 = Integer.rotateRight(e, 6) ^ Integer.rotateRight(e, 11) ^ Integer.rotateRight(e, 25);
            int ch = (e & f) ^ (~e & g);
            int t1 = hh + s1 + ch + K[t] + w[t];
            int s0 = Integer.rotateRight(a, 2) ^ Integer.rotateRight(a, 13) ^ Integer.rotateRight(a, 22);
            int maj = (a & b) ^ (a & c) ^ (b & c);
            int t2 = s0 + maj;
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
    }

    @Override
    public Sha256 clone() throws CloneNotSupportedException {
        Sha256 copy = (Sha256) super.clone();
        copy.h = h.clone();
        copy.w = new int[64];
        copy.buffer = buffer.clone();
        return copy;
    }
}
