package dev.cairn.erofs;

import dev.cairn.io.FormatException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a tar stream the way mkfs.erofs 1.8 {@code --tar} reads it ({@code lib/tar.c
 * tarerofs_parse_tar}): ustar headers, PAX extended ({@code x}) and global ({@code g}) headers with
 * {@code path linkpath mtime size uid gid SCHILY.xattr.* LIBARCHIVE.xattr.*}, GNU long names
 * ({@code L}, {@code K}), base-256 numbers. Values are kept as raw bytes: PAX xattr values are
 * binary, and mkfs.erofs's quirks (a PAX {@code mtime} fraction is read as a plain integer) are
 * part of the image bytes. Commons Compress's reader decodes these to Strings and is therefore not
 * used here. Sizes are capped; a malformed header is a {@link FormatException} naming the offset.
 */
final class TarReader {
    static final int BLOCK = 512;
    /** Largest extended header (PAX or GNU long name) accepted. */
    static final int MAX_EXTENDED = 1 << 20;
    static final int PATH_MAX = 4096;

    /** One xattr as the tar carries it: name and value bytes. */
    record Xattr(byte[] name, byte[] value) {
    }

    /** PAX state: per-entry ({@code x}) or global ({@code g}), {@code struct erofs_pax_header}. */
    static final class Pax {
        byte[] path;
        byte[] link;
        long size;
        long uid;
        long gid;
        long mtime;
        int nsec;
        boolean useSize;
        boolean useUid;
        boolean useGid;
        boolean useMtime;
        List<Xattr> xattrs = new ArrayList<>();

        Pax copy() {
            Pax p = new Pax();
            p.path = path;
            p.link = link;
            p.size = size;
            p.uid = uid;
            p.gid = gid;
            p.mtime = mtime;
            p.nsec = nsec;
            p.useSize = useSize;
            p.useUid = useUid;
            p.useGid = useGid;
            p.useMtime = useMtime;
            p.xattrs = new ArrayList<>(); // the global xattrs are merged at the end, not copied
            return p;
        }
    }

    /** A file system entry of the tar (types 0 1 2 3 4 5 6 7). */
    record Entry(long offset, char typeflag, byte[] path, byte[] link, int mode, long uid, long gid, long mtime,
            int nsec, long size, long devmajor, long devminor, List<Xattr> xattrs) {
    }

    private final InputStream in;
    private final Pax global = new Pax();
    private long offset;
    private long dataRemaining;
    private boolean sawEmpty;
    private byte[] volumeName;

    TarReader(InputStream in) {
        this.in = in;
    }

    /** The GNU volume header's name, if the tar had one (mkfs.erofs copies it into the superblock). */
    byte[] volumeName() {
        return volumeName;
    }

    long offset() {
        return offset;
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = in.read(b, off, len);
            if (n < 0) {
                throw new EOFException("tar ends inside a record at offset " + offset);
            }
            off += n;
            len -= n;
            offset += n;
        }
    }

    private void skip(long n) throws IOException {
        byte[] buf = new byte[8192];
        while (n > 0) {
            int len = (int) Math.min(buf.length, n);
            readFully(buf, 0, len);
            n -= len;
        }
    }

    /** Reads up to {@code len} bytes of the current entry's data. */
    int readData(byte[] b, int off, int len) throws IOException {
        int n = (int) Math.min(len, dataRemaining);
        if (n == 0) {
            return -1;
        }
        readFully(b, off, n);
        dataRemaining -= n;
        return n;
    }

    private void finishData() throws IOException {
        skip(dataRemaining);
        dataRemaining = 0;
        long rem = offset & (BLOCK - 1);
        if (rem != 0) {
            skip(BLOCK - rem);
        }
    }

    /** strtol(.., 8) of a NUL-terminated field with mkfs.erofs's validity rule; null when invalid. */
    static Long octal(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) {
            end++;
        }
        int p = off;
        while (p < end && (h[p] == ' ' || (h[p] >= '\t' && h[p] <= '\r'))) {
            p++;
        }
        boolean neg = false;
        if (p < end && (h[p] == '+' || h[p] == '-')) {
            neg = h[p] == '-';
            p++;
        }
        int digits = p;
        long v = 0;
        while (p < end && h[p] >= '0' && h[p] <= '7') {
            if (v > (Long.MAX_VALUE >> 3)) {
                return null;
            }
            v = (v << 3) | (h[p] - '0');
            p++;
        }
        int stop = p == digits ? off : p; // no conversion: endptr = start
        if (stop == end && stop == off) {
            return null; // empty field
        }
        if (stop != end && h[stop] != ' ') {
            return null;
        }
        return neg ? -v : v;
    }

    private long number(byte[] h, int off, int len, String field, long at) throws FormatException {
        if ((h[off] & 0xFF) == 0x80) {
            long res = 0;
            for (int i = 1; i < len; i++) {
                if (res > (Long.MAX_VALUE >> 8)) {
                    throw new FormatException(at, field, "base-256", "number out of range");
                }
                res = (res << 8) | (h[off + i] & 0xFF);
            }
            return res;
        }
        Long v = octal(h, off, len);
        if (v == null) {
            throw new FormatException(at, field, new String(h, off, len, StandardCharsets.ISO_8859_1).trim(),
                    "invalid tar number");
        }
        return v;
    }

    private static byte[] cstring(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return Arrays.copyOfRange(b, off, end);
    }

    private static byte[] stripTrailingSlashes(byte[] p) {
        int j = p.length;
        while (j > 0 && p[j - 1] == '/') {
            j--;
        }
        return j == p.length ? p : Arrays.copyOf(p, j);
    }

    /** The next file system entry (its data is then readable with {@link #readData}), or null at the end. */
    Entry next() throws IOException {
        finishData();
        // tarerofs_parse_tar's "one empty block seen" is local to a call: a lone zero block between
        // entries is skipped, only two in a row end the tar
        sawEmpty = false;
        Pax eh = global.copy();
        byte[] h = new byte[BLOCK];
        while (true) {
            long at = offset;
            readFully(h, 0, BLOCK);
            Long csum = octal(h, 148, 8);
            if (csum == null) {
                if (h[0] == 0) {
                    if (sawEmpty) {
                        return null;
                    }
                    sawEmpty = true;
                    continue;
                }
                throw new FormatException(at, "chksum", "", "invalid tar header checksum field");
            }
            long sum = 8 * ' ';
            long ssum = 8 * ' ';
            for (int j = 0; j < BLOCK; j++) {
                if (j >= 148 && j < 156 || j >= 500) {
                    continue;
                }
                sum += h[j] & 0xFF;
                ssum += h[j];
            }
            if (csum != sum && csum != ssum) {
                if (h[0] == 0) {
                    if (sawEmpty) {
                        return null;
                    }
                    sawEmpty = true;
                    continue;
                }
                throw new FormatException(at, "chksum", csum, "tar header checksum mismatch");
            }
            char type = (char) (h[156] & 0xFF);
            if (type == 'V') {
                volumeName = Arrays.copyOf(h, 16);
                continue;
            }
            if (!(h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r')) {
                throw new FormatException(at, "magic", "", "not a ustar header");
            }
            long size = eh.useSize ? eh.size : number(h, 124, 12, "size", at);
            if (size < 0) {
                throw new FormatException(at, "size", size, "negative size");
            }
            byte[] path = eh.path;
            if (type <= '7' && path == null) {
                byte[] prefix = cstring(h, 345, 155);
                byte[] name = cstring(h, 0, 100);
                byte[] p;
                if (prefix.length > 0) {
                    boolean slash = prefix[prefix.length - 1] == '/';
                    p = new byte[prefix.length + (slash ? 0 : 1) + name.length];
                    System.arraycopy(prefix, 0, p, 0, prefix.length);
                    if (!slash) {
                        p[prefix.length] = '/';
                    }
                    System.arraycopy(name, 0, p, p.length - name.length, name.length);
                } else {
                    p = name;
                }
                if (p.length == 0) {
                    p = new byte[] {'.'};
                } else {
                    p = stripTrailingSlashes(p);
                }
                path = p;
            }
            dataRemaining = size;
            switch (type) {
                case '0', '7', '1', '2', '3', '4', '5', '6' -> {
                    // a file system entry, below
                }
                case 'g' -> {
                    parsePax(global, extended(size, at), at);
                    if (global.path != null) {
                        eh.path = global.path;
                    }
                    if (global.link != null) {
                        eh.link = global.link;
                    }
                    finishData();
                    continue;
                }
                case 'x' -> {
                    parsePax(eh, extended(size, at), at);
                    finishData();
                    continue;
                }
                case 'L' -> {
                    eh.path = cstring(extended(size, at), 0, (int) size);
                    finishData();
                    continue;
                }
                case 'K' -> {
                    if (size > PATH_MAX) {
                        throw new FormatException(at, "linkname", size, "GNU long link name too long");
                    }
                    eh.link = cstring(extended(size, at), 0, (int) size);
                    finishData();
                    continue;
                }
                default -> {
                    // mkfs.erofs ignores an unknown type flag (entry and data) and resets the PAX state
                    finishData();
                    eh = global.copy();
                    sawEmpty = false;
                    continue;
                }
            }
            Long mode = octal(h, 100, 8);
            if (mode == null) {
                throw new FormatException(at, "mode", "", "invalid tar mode");
            }
            long uid = eh.useUid ? eh.uid : number(h, 108, 8, "uid", at);
            long gid = eh.useGid ? eh.gid : number(h, 116, 8, "gid", at);
            long mtime;
            int nsec;
            if (eh.useMtime) {
                mtime = eh.mtime;
                nsec = eh.nsec;
            } else {
                mtime = number(h, 136, 12, "mtime", at);
                nsec = 0;
            }
            long major = 0;
            long minor = 0;
            byte[] link = eh.link;
            if (type == '3' || type == '4') {
                major = number(h, 329, 8, "devmajor", at);
                minor = number(h, 337, 8, "devminor", at);
            } else if ((type == '1' || type == '2') && link == null) {
                link = cstring(h, 157, 100);
            }
            List<Xattr> xattrs = eh.xattrs;
            for (Xattr g : global.xattrs) {
                insertXattr(xattrs, g.name(), g.value(), true);
            }
            return new Entry(at, type, path, link, (int) (mode & 0xFFFFFFFFL), uid, gid, mtime, nsec, size, major,
                    minor, xattrs);
        }
    }

    private byte[] extended(long size, long at) throws IOException {
        if (size > MAX_EXTENDED) {
            throw new FormatException(at, "size", size, "extended header larger than " + MAX_EXTENDED + " bytes");
        }
        byte[] b = new byte[(int) size];
        readFully(b, 0, b.length);
        dataRemaining = 0;
        return b;
    }

    static void insertXattr(List<Xattr> list, byte[] name, byte[] value, boolean skipExisting) {
        for (int i = 0; i < list.size(); i++) {
            if (Arrays.equals(list.get(i).name(), name)) {
                if (!skipExisting) {
                    list.set(i, new Xattr(name, value));
                }
                return;
            }
        }
        list.add(new Xattr(name, value));
    }

    private static boolean startsWith(byte[] b, int off, int end, String s) {
        if (end - off < s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[off + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** sscanf("%lld %n"): a decimal integer with optional sign and surrounding white space. */
    private static long[] scanLong(byte[] b, int p, int end) {
        while (p < end && (b[p] == ' ' || (b[p] >= '\t' && b[p] <= '\r'))) {
            p++;
        }
        boolean neg = false;
        if (p < end && (b[p] == '+' || b[p] == '-')) {
            neg = b[p] == '-';
            p++;
        }
        int start = p;
        long v = 0;
        while (p < end && b[p] >= '0' && b[p] <= '9') {
            v = v * 10 + (b[p] - '0');
            if (v < 0) {
                return null;
            }
            p++;
        }
        if (p == start) {
            return null;
        }
        while (p < end && (b[p] == ' ' || (b[p] >= '\t' && b[p] <= '\r'))) {
            p++;
        }
        return new long[] {neg ? -v : v, p};
    }

    private static void parsePax(Pax eh, byte[] buf, long at) throws FormatException {
        int p = 0;
        while (p < buf.length) {
            long[] lenN = scanLong(buf, p, buf.length);
            if (lenN == null) {
                throw new FormatException(at, "pax", "", "malformed PAX record");
            }
            long len = lenN[0];
            int n = (int) (lenN[1] - p);
            if (len <= n || len > buf.length - p) {
                throw new FormatException(at, "pax", len, "malformed PAX record length");
            }
            int kv = p + n;
            int recEnd = (int) (p + len);
            p = recEnd;
            if (buf[recEnd - 1] != '\n') {
                throw new FormatException(at, "pax", "", "PAX record does not end in a newline");
            }
            int end = recEnd - 1; // the newline becomes the terminator
            int eq = -1;
            for (int i = kv; i < end; i++) {
                if (buf[i] == '=') {
                    eq = i;
                    break;
                }
            }
            if (eq < 0) {
                throw new FormatException(at, "pax", "", "PAX record without '='");
            }
            int value = eq + 1;
            int cend = end; // C string view of the value: up to the first NUL
            for (int i = value; i < end; i++) {
                if (buf[i] == 0) {
                    cend = i;
                    break;
                }
            }
            if (startsWith(buf, kv, end, "path=")) {
                eh.path = stripTrailingSlashes(Arrays.copyOfRange(buf, value, cend));
            } else if (startsWith(buf, kv, end, "linkpath=")) {
                eh.link = Arrays.copyOfRange(buf, value, cend);
            } else if (startsWith(buf, kv, end, "mtime=")) {
                long[] v = scanLong(buf, value, cend);
                if (v == null) {
                    throw new FormatException(at, "mtime", "", "invalid PAX mtime");
                }
                eh.mtime = v[0];
                int q = (int) v[1];
                if (q < cend && buf[q] == '.') {
                    // mkfs.erofs reads the fraction with "%d": its digits as an integer, not as nanoseconds
                    long[] f = scanLong(buf, q + 1, cend);
                    if (f == null) {
                        throw new FormatException(at, "mtime", "", "invalid PAX mtime fraction");
                    }
                    if (f[0] < 0 || f[0] > 999_999_999L) {
                        throw new FormatException(at, "mtime", f[0], "PAX mtime fraction out of range");
                    }
                    eh.nsec = (int) f[0];
                } else {
                    eh.nsec = 0;
                }
                eh.useMtime = true;
            } else if (startsWith(buf, kv, end, "size=")) {
                eh.size = paxNumber(buf, value, cend, "size", at);
                eh.useSize = true;
            } else if (startsWith(buf, kv, end, "uid=")) {
                eh.uid = paxNumber(buf, value, cend, "uid", at);
                eh.useUid = true;
            } else if (startsWith(buf, kv, end, "gid=")) {
                eh.gid = paxNumber(buf, value, cend, "gid", at);
                eh.useGid = true;
            } else if (startsWith(buf, kv, end, "SCHILY.xattr.")) {
                int key = kv + "SCHILY.xattr.".length();
                byte[] name = Arrays.copyOfRange(buf, key, eq);
                insertXattr(eh.xattrs, name, Arrays.copyOfRange(buf, value, end), false);
            } else if (startsWith(buf, kv, end, "LIBARCHIVE.xattr.")) {
                int key = kv + "LIBARCHIVE.xattr.".length();
                byte[] name = urlDecode(buf, key, eq);
                byte[] val = mkfsBase64(buf, value, end);
                if (val == null) {
                    throw new FormatException(at, "LIBARCHIVE.xattr", key(name), "invalid base64 value");
                }
                insertXattr(eh.xattrs, name, val, false);
            }
            // other keywords (atime, ctime, ...) are ignored, as mkfs.erofs does
        }
    }

    private static String key(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static final String BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /**
     * mkfs.erofs 1.8's {@code base64_decode} (lib/tar.c), reproduced as is: it accumulates the 6-bit
     * groups least significant first, so its result is NOT the RFC 4648 decoding of the text (a
     * LIBARCHIVE.xattr value is stored scrambled by erofs-utils 1.8). Null where mkfs.erofs fails.
     */
    static byte[] mkfsBase64(byte[] b, int off, int end) {
        int len = end - off;
        boolean padding = false;
        if (len != 0 && len % 4 == 0) {
            if (b[end - 2] == '=' && b[end - 1] == '=') {
                len -= 2;
            } else if (b[end - 1] == '=') {
                len--;
            }
            padding = true;
        }
        byte[] out = new byte[len];
        int n = 0;
        long ac = 0;
        int bits = 0;
        for (int i = 0; i < len; i++) {
            int v = b[off + i] == 0 ? -1 : BASE64.indexOf(b[off + i] & 0xFF);
            if (v < 0) {
                return null;
            }
            ac += (long) v << bits;
            bits += 6;
            if (bits >= 8) {
                out[n++] = (byte) ac;
                ac >>= 8;
                bits -= 8;
            }
        }
        if (ac != 0) {
            if (padding || ac > 0xFF) {
                return null;
            }
            out[n++] = (byte) ac;
        }
        return Arrays.copyOf(out, n);
    }

    private static long paxNumber(byte[] b, int p, int end, String field, long at) throws FormatException {
        long[] v = scanLong(b, p, end);
        if (v == null || v[1] != end) {
            throw new FormatException(at, field, new String(b, p, end - p, StandardCharsets.ISO_8859_1),
                    "invalid PAX number");
        }
        return v[0];
    }

    private static int hex(int c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        c |= 0x20;
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    }

    private static byte[] urlDecode(byte[] b, int off, int end) {
        byte[] out = new byte[end - off];
        int n = 0;
        for (int i = off; i < end; i++) {
            if (b[i] == '%') {
                int hi = i + 1 < end ? hex(b[i + 1]) : -1;
                int lo = i + 2 < end ? hex(b[i + 2]) : -1;
                if (hi >= 0 && lo >= 0) {
                    out[n++] = (byte) (hi << 4 | lo);
                    i += 2;
                    continue;
                }
            }
            out[n++] = b[i];
        }
        return Arrays.copyOf(out, n);
    }
}
