package dev.cairn.verity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ReedSolomonTest {
    @Test
    void fieldArithmetic() {
        assertThat(ReedSolomon.mul(2, 0x80)).isEqualTo(0x1d); // x · x^7 = x^8 = x^4+x^3+x^2+1
        assertThat(ReedSolomon.mul(0x53, 0xca)).isEqualTo(ReedSolomon.mul(0xca, 0x53));
        for (int a = 1; a < 256; a++) {
            assertThat(ReedSolomon.mul(a, ReedSolomon.div(1, a))).isEqualTo(1);
        }
    }

    @Test
    void generatorHasTheExpectedRoots() {
        for (int roots : new int[] {2, 7, 24}) {
            ReedSolomon rs = new ReedSolomon(roots);
            for (int i = 0; i < roots; i++) {
                int v = 0;
                for (int j = roots; j >= 0; j--) {
                    v = ReedSolomon.mul(v, ReedSolomon.EXP[i]) ^ rs.genpoly[j];
                }
                assertThat(v).as("g(α^%d)", i).isZero();
            }
        }
    }

    @Test
    void codewordsHaveZeroSyndromesAndTableParityMatchesLfsr() {
        Random r = new Random(1);
        for (int roots : new int[] {2, 3, 7, 24}) {
            ReedSolomon rs = new ReedSolomon(roots);
            for (int t = 0; t < 20; t++) {
                byte[] msg = new byte[rs.k];
                r.nextBytes(msg);
                byte[] par = rs.encode(msg);
                byte[] cw = new byte[255];
                System.arraycopy(msg, 0, cw, 0, rs.k);
                System.arraycopy(par, 0, cw, rs.k, roots);
                assertThat(rs.syndromes(cw)).containsOnly(0);
                byte[] viaTable = new byte[roots];
                for (int i = 0; i < rs.k; i++) {
                    for (int j = 0; j < roots; j++) {
                        viaTable[j] ^= rs.parityTable[i][j][msg[i] & 0xff];
                    }
                }
                assertThat(viaTable).isEqualTo(par);
            }
        }
    }

    @Test
    void correctsUpToHalfTheRootsAndRefusesBeyond() {
        Random r = new Random(2);
        for (int roots : new int[] {2, 4, 7, 24}) {
            ReedSolomon rs = new ReedSolomon(roots);
            for (int t = 0; t < 50; t++) {
                byte[] msg = new byte[rs.k];
                r.nextBytes(msg);
                byte[] cw = new byte[255];
                System.arraycopy(msg, 0, cw, 0, rs.k);
                System.arraycopy(rs.encode(msg), 0, cw, rs.k, roots);
                byte[] good = cw.clone();
                int errors = 1 + r.nextInt(roots / 2);
                java.util.Set<Integer> pos = new java.util.HashSet<>();
                while (pos.size() < errors) {
                    pos.add(r.nextInt(255));
                }
                for (int p : pos) {
                    cw[p] ^= (byte) (1 + r.nextInt(255));
                }
                assertThat(rs.correct(cw, rs.syndromes(cw))).isEqualTo(errors);
                assertThat(cw).isEqualTo(good);
            }
            // roots + 1 errors: never silently "corrected" into a codeword with nonzero syndromes
            byte[] msg = new byte[rs.k];
            r.nextBytes(msg);
            byte[] cw = new byte[255];
            System.arraycopy(msg, 0, cw, 0, rs.k);
            System.arraycopy(rs.encode(msg), 0, cw, rs.k, roots);
            for (int p = 0; p <= roots; p++) {
                cw[p * 3] ^= 0x55;
            }
            int n = rs.correct(cw, rs.syndromes(cw));
            if (n >= 0) {
                assertThat(rs.syndromes(cw)).containsOnly(0); // a miscorrection to another codeword is possible in theory
            }
        }
    }
}
