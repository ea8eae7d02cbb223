package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

class IncompressibleProbeTest {
    static final int BLOCK = 128 * 1024;
    final IncompressibleProbe probe = new IncompressibleProbe();

    static int xzSize(byte[] b) throws IOException {
        LZMA2Options o = new LZMA2Options(6);
        o.setDictSize(BLOCK);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (XZOutputStream xz = new XZOutputStream(out, o, XZ.CHECK_CRC32)) {
            xz.write(b);
        }
        return out.size();
    }

    static byte[] text(int length) {
        StringBuilder sb = new StringBuilder();
        java.util.Random r = SeededData.random(7);
        String[] words = {"verity", "squashfs", "block", "hash", "kernel", "image", "root", "layer", "the", "of", "and"};
        while (sb.length() < length) {
            sb.append(words[r.nextInt(words.length)]).append(r.nextInt(10) == 0 ? ".\n" : " ");
        }
        return sb.substring(0, length).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void randomDataIsIncompressibleAndXzAgrees() throws IOException {
        for (long seed = 1; seed <= 5; seed++) {
            byte[] b = SeededData.bytes(seed, BLOCK);
            assertThat(probe.chiSquare(b, 0, b.length)).isBetween(100L, 400L);
            assertThat(probe.looksIncompressible(b, 0, b.length)).isTrue();
            assertThat(xzSize(b)).isGreaterThanOrEqualTo(b.length);
        }
    }

    @Test
    void deflatedDataIsIncompressible() throws IOException {
        byte[] t = text(4 * BLOCK);
        Deflater d = new Deflater(9);
        d.setInput(t);
        d.finish();
        byte[] z = new byte[t.length];
        int n = d.deflate(z);
        d.end();
        assertThat(n).isGreaterThan(BLOCK / 4);
        assertThat(probe.looksIncompressible(z, 0, n)).isTrue();
        assertThat(xzSize(java.util.Arrays.copyOf(z, n))).isGreaterThan(n * 99 / 100);
    }

    @Test
    void repeatsKeepEvenlySpreadBytesForTheCompressor() throws IOException {
        byte[] half = SeededData.bytes(11, BLOCK / 2);
        byte[] twice = new byte[BLOCK];
        System.arraycopy(half, 0, twice, 0, half.length);
        System.arraycopy(half, 0, twice, half.length, half.length);
        assertThat(probe.chiSquare(twice, 0, BLOCK)).isLessThanOrEqualTo(IncompressibleProbe.MAX_CHI_SQUARE);
        assertThat(probe.looksIncompressible(twice, 0, BLOCK)).isFalse();
        assertThat(xzSize(twice)).isLessThan(BLOCK * 6 / 10);

        byte[] counter = new byte[BLOCK]; // perfectly even histogram, perfectly predictable
        for (int i = 0; i < BLOCK; i++) {
            counter[i] = (byte) i;
        }
        assertThat(probe.chiSquare(counter, 0, BLOCK)).isZero();
        assertThat(probe.looksIncompressible(counter, 0, BLOCK)).isFalse();
    }

    @Test
    void textZerosAndSmallBlocksGoToTheCompressor() {
        byte[] t = text(BLOCK);
        assertThat(probe.looksIncompressible(t, 0, t.length)).isFalse();
        assertThat(probe.looksIncompressible(new byte[BLOCK], 0, BLOCK)).isFalse();
        byte[] small = SeededData.bytes(3, IncompressibleProbe.MIN_LENGTH - 1);
        assertThat(probe.looksIncompressible(small, 0, small.length)).isFalse();
    }

    @Test
    void onlyTheGivenRangeCounts() {
        byte[] buf = new byte[3 * BLOCK]; // zeros around a random middle
        System.arraycopy(SeededData.bytes(5, BLOCK), 0, buf, BLOCK, BLOCK);
        assertThat(probe.looksIncompressible(buf, BLOCK, BLOCK)).isTrue();
        assertThat(probe.looksIncompressible(buf, BLOCK / 2, BLOCK)).isFalse();
    }

    @Test
    void theXzCompressorStoresProbedBlocksRawAndCompressesTheRest() throws IOException {
        Codec.Compressor xz = new Codec(Compression.XZ, 6, BLOCK, false).newCompressor();
        byte[] random = SeededData.bytes(9, BLOCK);
        assertThat(xz.compress(random, 0, random.length)).isNull();
        byte[] t = text(BLOCK);
        assertThat(xz.compress(t, 0, t.length)).isNotNull().hasSizeLessThan(BLOCK / 2);
    }
}
