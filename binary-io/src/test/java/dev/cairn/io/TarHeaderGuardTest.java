package dev.cairn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Archives built by hand, header by header, read through the guard. */
class TarHeaderGuardTest {
    /** A ustar header block: name, size (octal, or base-256 when {@code binarySize}), type, checksum. */
    static byte[] header(String name, long size, char type, boolean binarySize) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, h, 0, n.length);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        if (binarySize) {
            h[124] = (byte) 0x80;
            for (int i = 0; i < 8; i++) {
                h[135 - i] = (byte) (size >>> (8 * i));
            }
        } else {
            put(h, 124, String.format("%011o", size));
        }
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    static byte[] padded(byte[] data) {
        return java.util.Arrays.copyOf(data, (data.length + 511) / 512 * 512);
    }

    static byte[] pax(String... records) {
        StringBuilder sb = new StringBuilder();
        for (String r : records) {
            int len = r.length() + 2;
            len += String.valueOf(len + String.valueOf(len).length()).length();
            sb.append(len).append(' ').append(r).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    static long readAll(InputStream in) throws IOException {
        long n = 0;
        byte[] b = new byte[700]; // not a multiple of 512: headers straddle reads
        for (int r; (r = in.read(b)) > 0; ) {
            n += r;
        }
        return n;
    }

    static byte[] archive(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    @Test
    void aValidArchivePassesUnchanged() throws IOException {
        byte[] data = "hello\n".getBytes(StandardCharsets.US_ASCII);
        byte[] px = pax("path=" + "d/".repeat(80) + "file", "SCHILY.xattr.user.x=y");
        byte[] longName = ("n".repeat(200) + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] tar = archive(header("a", data.length, '0', false), padded(data),
                header("././@PaxHeader", px.length, 'x', false), padded(px), header("short", 0, '0', false),
                header("././@LongLink", longName.length, 'L', false), padded(longName), header("x", 3000, '0', true),
                padded(new byte[3000]), header("dir/", 0, '5', false));
        assertThat(readAll(new TarHeaderGuard(new ByteArrayInputStream(tar)))).isEqualTo(tar.length);
        assertThat(new TarHeaderGuard(new ByteArrayInputStream(tar)).skip(tar.length)).isEqualTo(tar.length);
    }

    @Test
    void anOversizedExtendedHeaderIsRefusedBeforeItsDataIsRead() {
        byte[] data = "x".getBytes(StandardCharsets.US_ASCII);
        for (char type : new char[] {'x', 'g', 'L', 'K'}) {
            byte[] tar = archive(header("a", 1, '0', false), padded(data), header("bomb", 2L << 30, type, false));
            assertThatThrownBy(() -> readAll(new TarHeaderGuard(new ByteArrayInputStream(tar)))).as("type " + type)
                    .isInstanceOf(FormatException.class).hasMessageContaining("2147483648 bytes");
        }
        byte[] binary = archive(header("bomb", 1L << 40, 'x', true));
        assertThatThrownBy(() -> readAll(new TarHeaderGuard(new ByteArrayInputStream(binary)))).isInstanceOf(FormatException.class);
    }

    @Test
    void aPaxSizeRecordMovesTheNextHeader() {
        // the ustar size says 0; the PAX record says 1500 bytes follow: the bomb sits after them
        byte[] px = pax("size=1500");
        byte[] body = new byte[1500];
        byte[] tar = archive(header("././@PaxHeader", px.length, 'x', false), padded(px), header("big", 0, '0', false),
                padded(body), header("bomb", 3L << 30, 'x', false));
        assertThatThrownBy(() -> readAll(new TarHeaderGuard(new ByteArrayInputStream(tar)))).isInstanceOf(FormatException.class);
    }

    @Test
    void afterTheEndOfTheArchiveOrABadChecksumItStepsAside() throws IOException {
        byte[] afterEnd = archive(header("a", 0, '0', false), new byte[512], header("bomb", 3L << 30, 'x', false));
        assertThat(readAll(new TarHeaderGuard(new ByteArrayInputStream(afterEnd)))).isEqualTo(afterEnd.length);
        byte[] bad = header("bomb", 3L << 30, 'x', false);
        bad[0] ^= 1; // checksum no longer matches: the tar reader reports it
        byte[] tar = archive(bad);
        assertThat(readAll(new TarHeaderGuard(new ByteArrayInputStream(tar)))).isEqualTo(tar.length);
    }

    @Test
    void paxSizeRecords() {
        byte[] p = pax("path=a", "size=42");
        assertThat(TarHeaderGuard.paxSize(p, p.length)).isEqualTo(42);
        byte[] none = pax("path=a");
        assertThat(TarHeaderGuard.paxSize(none, none.length)).isEqualTo(-1);
        byte[] junk = "12 size=zz\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(TarHeaderGuard.paxSize(junk, junk.length)).isEqualTo(-2);
        byte[] cut = "99 size=1\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(TarHeaderGuard.paxSize(cut, cut.length)).isEqualTo(-2);
    }
}
