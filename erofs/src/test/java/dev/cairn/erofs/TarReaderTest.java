package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

/** mkfs.erofs 1.8's reading of tar headers, quirks included, and refusals of malformed input. */
class TarReaderTest {
    static TarReader.Entry first(byte[] tar) throws IOException {
        return new TarReader(new ByteArrayInputStream(tar)).next();
    }

    @Test
    void octalFieldsFollowStrtol() {
        byte[] f = "0000644\0".getBytes(StandardCharsets.US_ASCII);
        assertThat(TarReader.octal(f, 0, 8)).isEqualTo(0644L);
        assertThat(TarReader.octal("  755 \0\0\0".getBytes(StandardCharsets.US_ASCII), 0, 8)).isEqualTo(0755L);
        assertThat(TarReader.octal("\0\0\0\0\0\0\0\0".getBytes(StandardCharsets.US_ASCII), 0, 8)).isNull();
        assertThat(TarReader.octal("12x\0\0\0\0\0".getBytes(StandardCharsets.US_ASCII), 0, 8)).isNull();
        assertThat(TarReader.octal("        ".getBytes(StandardCharsets.US_ASCII), 0, 8)).isZero();
    }

    @Test
    void aPaxMtimeFractionIsReadAsAPlainInteger() throws IOException {
        // erofs-utils 1.8 reads "%d" after the dot (fixed upstream after 1.8.6): .1234567 is 1234567 ns
        TarReader.Entry e = first(new TarCorpus().withPax("f", TarConstants.LF_NORMAL, 0644, new byte[1],
                Map.of("mtime", "1700000000.1234567")).bytes());
        assertThat(e.mtime()).isEqualTo(1_700_000_000L);
        assertThat(e.nsec()).isEqualTo(1234567);
    }

    @Test
    void libarchiveBase64IsDecodedTheWayErofsUtils18DecodesIt() {
        byte[] b = "YWJj".getBytes(StandardCharsets.US_ASCII); // RFC 4648: "abc"
        assertThat(HexFormat.of().formatHex(TarReader.mkfsBase64(b, 0, b.length))).isEqualTo("98958c");
        byte[] padded = "AAECAwQ=".getBytes(StandardCharsets.US_ASCII); // leftover bits + padding: mkfs fails
        assertThat(TarReader.mkfsBase64(padded, 0, padded.length)).isNull();
        byte[] bad = "A*==".getBytes(StandardCharsets.US_ASCII);
        assertThat(TarReader.mkfsBase64(bad, 0, bad.length)).isNull();
    }

    @Test
    void schilyXattrsKeepBinaryValuesAndPaxOrder() throws IOException {
        TarReader.Entry e = first(new TarCorpus().withPax("f", TarConstants.LF_NORMAL, 0644, new byte[0],
                new java.util.LinkedHashMap<>(Map.of("SCHILY.xattr.user.z", "\u0000\u0001"))).bytes());
        assertThat(e.xattrs()).hasSize(1);
        assertThat(new String(e.xattrs().get(0).name(), StandardCharsets.US_ASCII)).isEqualTo("user.z");
        assertThat(e.xattrs().get(0).value()).containsExactly(0, 1);
    }

    @Test
    void longNamesAndTrailingSlashes() throws IOException {
        String name = "n".repeat(180);
        TarReader r = new TarReader(new ByteArrayInputStream(new TarCorpus().dir("d/", 0755).file(name, new byte[0]).bytes()));
        assertThat(new String(r.next().path(), StandardCharsets.US_ASCII)).isEqualTo("d");
        assertThat(new String(r.next().path(), StandardCharsets.US_ASCII)).isEqualTo(name);
        assertThat(r.next()).isNull();
    }

    @Test
    void malformedHeadersAreRefusedWithTheirOffset() {
        byte[] tar = new TarCorpus().file("a", new byte[10]).bytes();
        tar[148] ^= 1; // checksum digit
        assertThatThrownBy(() -> first(tar)).isInstanceOf(FormatException.class).hasMessageContaining("checksum");
        byte[] magic = new TarCorpus().file("a", new byte[10]).bytes();
        magic[257] = 'x';
        fixChecksum(magic, 0);
        assertThatThrownBy(() -> first(magic)).isInstanceOf(FormatException.class).hasMessageContaining("ustar");
    }

    @Test
    void aTruncatedTarIsAnError() throws IOException {
        byte[] tar = new TarCorpus().file("a", new byte[1000]).bytes();
        byte[] cut = java.util.Arrays.copyOf(tar, 512 + 100);
        TarReader r = new TarReader(new ByteArrayInputStream(cut));
        r.next();
        assertThatThrownBy(r::next).isInstanceOf(EOFException.class);
    }

    @Test
    void hugeExtendedHeadersAreRefused() {
        byte[] h = new byte[512];
        byte[] name = "././@LongLink".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, h, 0, name.length);
        put(h, 100, "0000644");
        put(h, 124, Long.toOctalString(TarReader.MAX_EXTENDED + 1L));
        h[156] = 'L';
        put(h, 257, "ustar  ");
        fixChecksum(h, 0);
        assertThatThrownBy(() -> first(h)).isInstanceOf(FormatException.class).hasMessageContaining("extended header");
    }

    static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    static void fixChecksum(byte[] h, int off) {
        java.util.Arrays.fill(h, off + 148, off + 156, (byte) ' ');
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += h[off + i] & 0xFF;
        }
        put(h, off + 148, String.format("%06o\0 ", sum));
    }
}
