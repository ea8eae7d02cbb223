package dev.cairn.oci.tardev;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Walks an uncompressed tar archive header by header, keeping names as bytes and every member's
 * header and data offsets — the view Kata's tarindex has of a layer. Hostile input: checksums are
 * checked, extended headers are capped, sizes are bounded by the file, the walk ends at the first
 * all-zero block or at the end of the file.
 */
public final class RawTarReader {
    static final int BLOCK = 512;
    /** Largest GNU long name or PAX header read into memory. */
    static final int MAX_EXTENDED = 1 << 20;

    private final FileChannel ch;
    private final long fileSize;
    private long pos;
    private final ByteBuffer block = ByteBuffer.allocate(BLOCK);

    public RawTarReader(FileChannel ch) throws IOException {
        this.ch = ch;
        this.fileSize = ch.size();
    }

    /** The archive's size in bytes (what Kata calls the contents size: the whole file). */
    public long fileSize() {
        return fileSize;
    }

    /** The next member, or null at the end of the archive. */
    public RawTarEntry next() throws IOException {
        byte[] longName = null;
        byte[] longLink = null;
        byte[] pax = null;
        while (true) {
            long headerOffset = pos;
            byte[] h = readBlock();
            if (h == null || isZero(h)) {
                return null;
            }
            checkChecksum(h, headerOffset);
            byte type = h[156];
            long headerSize = numeric(h, 124, 12, headerOffset, "size");
            if (headerSize < 0) {
                throw new FormatException(headerOffset + 124, "size", null, "tar header size does not parse");
            }
            switch (type) {
                case 'L', 'K', 'x' -> {
                    if (headerSize > MAX_EXTENDED) {
                        throw new FormatException(headerOffset, "size", headerSize,
                                "tar extended header larger than " + MAX_EXTENDED + " bytes");
                    }
                    byte[] data = readData(headerSize, headerOffset);
                    if (type == 'L') {
                        if (longName != null) {
                            throw new FormatException(headerOffset, "type", "L", "two GNU long names for one tar member");
                        }
                        longName = data;
                    } else if (type == 'K') {
                        if (longLink != null) {
                            throw new FormatException(headerOffset, "type", "K", "two GNU long link names for one tar member");
                        }
                        longLink = data;
                    } else {
                        if (pax != null) {
                            throw new FormatException(headerOffset, "type", "x", "two PAX headers for one tar member");
                        }
                        pax = data;
                    }
                    continue;
                }
                default -> {
                }
            }
            long size = headerSize;
            byte[] paxSize = pax == null ? null : paxValue(pax, "size");
            if (paxSize != null) {
                try {
                    size = Long.parseLong(new String(paxSize, StandardCharsets.US_ASCII));
                } catch (NumberFormatException e) {
                    throw new FormatException(headerOffset, "pax size", null, "PAX size record does not parse");
                }
                if (size < 0) {
                    throw new FormatException(headerOffset, "pax size", size, "negative PAX size");
                }
            }
            long dataOffset = pos;
            if (roundUp(size) > fileSize - dataOffset) {
                throw new FormatException(headerOffset, "size", size, "tar member runs past the end of the archive");
            }
            pos = dataOffset + roundUp(size);
            byte[] path = longName != null ? stripNul(longName)
                    : pax != null && paxValue(pax, "path") != null ? paxValue(pax, "path") : headerPath(h);
            byte[] headerLink = field(h, 157, 100);
            byte[] link = longLink != null ? stripNul(longLink)
                    : pax != null && paxValue(pax, "linkpath") != null ? paxValue(pax, "linkpath")
                    : headerLink.length > 0 ? headerLink : null;
            boolean posix = isUstar(h) || isGnu(h);
            return new RawTarEntry(type, path, link, headerLink.length > 0 ? headerLink : null,
                    numeric(h, 100, 8, headerOffset, "mode"), Math.max(0, numeric(h, 108, 8, headerOffset, "uid")),
                    Math.max(0, numeric(h, 116, 8, headerOffset, "gid")), Math.max(0, numeric(h, 136, 12, headerOffset, "mtime")),
                    posix ? numeric(h, 329, 8, headerOffset, "devmajor") : -1,
                    posix ? numeric(h, 337, 8, headerOffset, "devminor") : -1,
                    size, headerOffset, dataOffset);
        }
    }

    private byte[] readBlock() throws IOException {
        if (fileSize == pos) {
            return null; // an archive may end without its two zero blocks
        }
        if (fileSize - pos < BLOCK) {
            throw new FormatException(pos, "header", null, "tar archive truncated inside a header block");
        }
        block.clear();
        while (block.hasRemaining()) {
            if (ch.read(block, pos + block.position()) < 0) {
                return null;
            }
        }
        pos += BLOCK;
        return block.array().clone();
    }

    private byte[] readData(long size, long headerOffset) throws IOException {
        if (roundUp(size) > fileSize - pos) {
            throw new FormatException(headerOffset, "size", size, "tar extended header runs past the end of the archive");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new FormatException(headerOffset, "size", size, "tar extended header runs past the end of the archive");
            }
        }
        pos += roundUp(size);
        return b.array();
    }

    private static long roundUp(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static boolean isZero(byte[] h) {
        for (byte b : h) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    static boolean isUstar(byte[] h) {
        return h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r' && h[262] == 0
                && h[263] == '0' && h[264] == '0';
    }

    static boolean isGnu(byte[] h) {
        return h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r' && h[262] == ' '
                && h[263] == ' ' && h[264] == 0;
    }

    /** The header's path: ustar {@code prefix/name}, else the name field, each up to its NUL. */
    static byte[] headerPath(byte[] h) {
        byte[] name = field(h, 0, 100);
        if (!isUstar(h)) {
            return name;
        }
        byte[] prefix = field(h, 345, 155);
        if (prefix.length == 0) {
            return name;
        }
        byte[] out = Arrays.copyOf(prefix, prefix.length + 1 + name.length);
        out[prefix.length] = '/';
        System.arraycopy(name, 0, out, prefix.length + 1, name.length);
        return out;
    }

    static byte[] field(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) {
            end++;
        }
        return Arrays.copyOfRange(h, off, end);
    }

    private static byte[] stripNul(byte[] b) {
        return b.length > 0 && b[b.length - 1] == 0 ? Arrays.copyOf(b, b.length - 1) : b;
    }

    /**
     * A numeric field: octal text (up to its NUL, surrounding spaces ignored) or GNU base-256
     * (high bit of the first byte set); -1 when it does not parse.
     */
    static long numeric(byte[] h, int off, int len, long headerOffset, String name) throws FormatException {
        if ((h[off] & 0x80) != 0) {
            long v = 0;
            for (int i = off + Math.max(1, len - 8); i < off + len; i++) {
                v = (v << 8) | (h[i] & 0xff);
            }
            if (v < 0) {
                throw new FormatException(headerOffset + off, name, null, "base-256 tar field out of range");
            }
            return v;
        }
        String s = new String(field(h, off, len), StandardCharsets.US_ASCII).trim();
        if (s.isEmpty()) {
            return -1;
        }
        try {
            long v = Long.parseLong(s, 8);
            return v < 0 ? -1 : v;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void checkChecksum(byte[] h, long headerOffset) throws FormatException {
        long stored = numeric(h, 148, 8, headerOffset, "chksum");
        long unsigned = 0;
        for (int i = 0; i < BLOCK; i++) {
            unsigned += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
        }
        if (stored != unsigned) {
            throw new FormatException(headerOffset + 148, "chksum", stored, "tar header checksum mismatch");
        }
    }

    /** The first value of PAX record {@code key} in {@code pax} (as the Rust tar crate finds it), or null. */
    static byte[] paxValue(byte[] pax, String key) {
        byte[] k = key.getBytes(StandardCharsets.US_ASCII);
        int i = 0;
        while (i < pax.length) {
            int sp = i;
            while (sp < pax.length && pax[sp] != ' ') {
                sp++;
            }
            if (sp >= pax.length) {
                break;
            }
            int len;
            try {
                len = Integer.parseInt(new String(pax, i, sp - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                break;
            }
            if (len <= sp - i + 1 || i + len > pax.length || pax[i + len - 1] != '\n') {
                break;
            }
            int eq = sp + 1;
            while (eq < i + len - 1 && pax[eq] != '=') {
                eq++;
            }
            if (eq < i + len - 1 && eq - sp - 1 == k.length && Arrays.equals(pax, sp + 1, eq, k, 0, k.length)) {
                return Arrays.copyOfRange(pax, eq + 1, i + len - 1);
            }
            i += len;
        }
        return null;
    }
}
