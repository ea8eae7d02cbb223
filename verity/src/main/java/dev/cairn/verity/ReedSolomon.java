package dev.cairn.verity;

/**
 * Reed-Solomon RS(255, 255 - roots) over GF(2^8) with field polynomial 0x11d, first consecutive
 * root α^0 and primitive element α (the parameters of dm-verity FEC and of Phil Karn's libfec,
 * which cryptsetup and the kernel use). Symbol 0 of a codeword is the highest-degree coefficient;
 * the parity follows the message.
 *
 * <p>Encoding uses linearity: the parity of a message is the XOR of the parities of its single
 * symbols, so {@link #parityTable} gives, for each message position and parity byte, a 256-entry
 * lookup table. That lets the encoder consume message symbols in any order, a block at a time.
 */
final class ReedSolomon {
    static final int N = 255;
    static final int FIELD_POLY = 0x11d;
    static final int[] EXP = new int[512];
    static final int[] LOG = new int[256];

    static {
        int x = 1;
        for (int i = 0; i < 255; i++) {
            EXP[i] = x;
            LOG[x] = i;
            x <<= 1;
            if ((x & 0x100) != 0) {
                x ^= FIELD_POLY;
            }
        }
        for (int i = 255; i < 512; i++) {
            EXP[i] = EXP[i - 255];
        }
    }

    final int roots;
    final int k;
    /** Generator polynomial g(x) = Π (x − α^i), i < roots; genpoly[i] = coefficient of x^i. */
    final int[] genpoly;
    /** parityTable[i][j][v] = parity byte j of the message with value v at position i and zeros elsewhere. */
    final byte[][][] parityTable;

    ReedSolomon(int roots) {
        if (roots < 2 || roots > 24) {
            throw new IllegalArgumentException("roots must be 2..24: " + roots);
        }
        this.roots = roots;
        this.k = N - roots;
        int[] g = new int[roots + 1];
        g[0] = 1;
        for (int i = 0; i < roots; i++) {
            // multiply g by (x + α^i)
            int[] next = new int[roots + 1];
            int a = EXP[i];
            for (int j = 0; j <= i + 1; j++) {
                int prev = j > 0 ? g[j - 1] : 0;
                next[j] = prev ^ mul(g[j], a);
            }
            g = next;
        }
        this.genpoly = g;
        parityTable = new byte[k][roots][256];
        for (int i = 0; i < k; i++) {
            byte[] unit = new byte[k];
            unit[i] = 1;
            byte[] p = encode(unit);
            for (int j = 0; j < roots; j++) {
                int base = p[j] & 0xff;
                for (int v = 0; v < 256; v++) {
                    parityTable[i][j][v] = (byte) mul(base, v);
                }
            }
        }
    }

    static int mul(int a, int b) {
        return a == 0 || b == 0 ? 0 : EXP[LOG[a] + LOG[b]];
    }

    static int div(int a, int b) {
        if (b == 0) {
            throw new ArithmeticException("division by zero in GF(256)");
        }
        return a == 0 ? 0 : EXP[LOG[a] + 255 - LOG[b]];
    }

    /** Systematic encoding by polynomial division (LFSR): the parity of {@code msg} (k symbols). */
    byte[] encode(byte[] msg) {
        int[] par = new int[roots];
        for (int i = 0; i < k; i++) {
            int fb = (msg[i] & 0xff) ^ par[0];
            System.arraycopy(par, 1, par, 0, roots - 1);
            par[roots - 1] = 0;
            if (fb != 0) {
                for (int j = 0; j < roots; j++) {
                    // remainder update: subtract fb * g(x) (monic, degree roots), aligned to the top
                    par[j] ^= mul(fb, genpoly[roots - 1 - j]);
                }
            }
        }
        byte[] out = new byte[roots];
        for (int j = 0; j < roots; j++) {
            out[j] = (byte) par[j];
        }
        return out;
    }

    /**
     * Corrects a codeword in place (errors only, no erasures), given its syndromes
     * S_i = c(α^i). Returns the number of corrected symbols, or -1 when it is uncorrectable.
     */
    int correct(byte[] cw, int[] syndromes) {
        boolean zero = true;
        for (int s : syndromes) {
            zero &= s == 0;
        }
        if (zero) {
            return 0;
        }
        // Berlekamp–Massey: error locator Λ(x).
        int[] lambda = new int[roots + 1];
        int[] b = new int[roots + 1];
        lambda[0] = 1;
        b[0] = 1;
        int l = 0;
        int m = 1;
        int bb = 1;
        for (int n = 0; n < roots; n++) {
            int d = syndromes[n];
            for (int i = 1; i <= l; i++) {
                d ^= mul(lambda[i], syndromes[n - i]);
            }
            if (d == 0) {
                m++;
            } else if (2 * l <= n) {
                int[] t = lambda.clone();
                int coef = div(d, bb);
                for (int i = m; i <= roots; i++) {
                    lambda[i] ^= mul(coef, b[i - m]);
                }
                l = n + 1 - l;
                b = t;
                bb = d;
                m = 1;
            } else {
                int coef = div(d, bb);
                for (int i = m; i <= roots; i++) {
                    lambda[i] ^= mul(coef, b[i - m]);
                }
                m++;
            }
        }
        if (l == 0 || 2 * l > roots) {
            return -1;
        }
        // Ω(x) = S(x) Λ(x) mod x^roots
        int[] omega = new int[roots];
        for (int i = 0; i < roots; i++) {
            int v = 0;
            for (int j = 0; j <= Math.min(i, l); j++) {
                v ^= mul(lambda[j], syndromes[i - j]);
            }
            omega[i] = v;
        }
        // Chien search: position p has locator X = α^(254 − p); it is in error when Λ(X^-1) = 0.
        int found = 0;
        int[] positions = new int[l];
        for (int p = 0; p < N; p++) {
            int xinvLog = (255 - (254 - p)) % 255; // log of X^-1
            int v = 0;
            for (int i = 0; i <= l; i++) {
                if (lambda[i] != 0) {
                    v ^= EXP[(LOG[lambda[i]] + i * xinvLog) % 255];
                }
            }
            if (v == 0) {
                if (found == l) {
                    return -1;
                }
                positions[found++] = p;
            }
        }
        if (found != l) {
            return -1;
        }
        // Forney (first root α^0): e = X · Ω(X^-1) / Λ'(X^-1)
        for (int idx = 0; idx < found; idx++) {
            int p = positions[idx];
            int xLog = 254 - p;
            int xinvLog = (255 - xLog) % 255;
            int num = 0;
            for (int i = 0; i < roots; i++) {
                if (omega[i] != 0) {
                    num ^= EXP[(LOG[omega[i]] + i * xinvLog) % 255];
                }
            }
            int den = 0;
            for (int i = 1; i <= l; i += 2) {
                if (lambda[i] != 0) {
                    den ^= EXP[(LOG[lambda[i]] + (i - 1) * xinvLog) % 255];
                }
            }
            if (den == 0) {
                return -1;
            }
            int e = mul(EXP[xLog], div(num, den));
            cw[p] ^= (byte) e;
        }
        return found;
    }

    /** Syndromes of a whole codeword (reference path, used by tests and for re-checking). */
    int[] syndromes(byte[] cw) {
        int[] s = new int[roots];
        for (int i = 0; i < roots; i++) {
            int acc = 0;
            for (int p = 0; p < N; p++) {
                acc = mul(acc, EXP[i]) ^ (cw[p] & 0xff);
            }
            s[i] = acc;
        }
        return s;
    }
}
