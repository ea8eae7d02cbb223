package dev.cairn.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Unpacks an initramfs the way Linux's init/initramfs.c (unpack_to_rootfs, flush_buffer,
 * do_reset) does, with its rules for concatenated archives: an uncompressed newc archive starts at
 * a 4-aligned offset of the whole buffer (else the byte is taken for a compression magic: "invalid
 * magic at start of compressed archive"); NUL bytes between archives are skipped, and after an
 * uncompressed archive the next non-zero byte must be 4-aligned ("broken padding"); a gzip member
 * or zstd frame is decompressed and its output is again cpio archives and NUL padding ("junk
 * within compressed archive" otherwise). Entries of later archives replace earlier ones, as the
 * kernel's unlink-and-create does. Test code: the oracle for {@code kernel.initramfs} with both a
 * ready file and a packed directory.
 */
final class KernelInitramfsReader {
    /** path → "d", "l TARGET" or the file's content as text (ISO-8859-1, byte for byte). */
    final Map<String, String> entries = new TreeMap<>();

    static KernelInitramfsReader unpack(byte[] buf) throws IOException {
        KernelInitramfsReader r = new KernelInitramfsReader();
        int pos = 0;
        while (pos < buf.length) {
            if (buf[pos] == '0' && (pos & 3) == 0) {
                pos = r.archive(buf, pos);
                while (pos < buf.length && buf[pos] == 0) {
                    pos++;
                }
                if (pos < buf.length && (pos & 3) != 0) {
                    throw new IOException("broken padding at " + pos);
                }
                continue;
            }
            if (buf[pos] == 0) {
                pos++;
                continue;
            }
            byte[] out;
            int consumed;
            if ((buf[pos] & 0xff) == 0x1f && (buf[pos + 1] & 0xff) == 0x8b) {
                int[] used = new int[1];
                out = gunzip(buf, pos, used);
                consumed = used[0];
            } else if ((buf[pos] & 0xff) == 0x28 && (buf[pos + 1] & 0xff) == 0xb5 && (buf[pos + 2] & 0xff) == 0x2f
                    && (buf[pos + 3] & 0xff) == 0xfd) {
                long size = com.github.luben.zstd.Zstd.findFrameCompressedSize(buf, pos, buf.length - pos);
                consumed = Math.toIntExact(size);
                byte[] frame = java.util.Arrays.copyOfRange(buf, pos, pos + consumed);
                out = new com.github.luben.zstd.ZstdInputStream(new java.io.ByteArrayInputStream(frame)).readAllBytes();
            } else {
                throw new IOException("invalid magic at start of compressed archive (offset " + pos + ")");
            }
            r.decompressed(out);
            pos += consumed;
        }
        return r;
    }

    /** The output of one compressed archive: archives and NUL padding, offsets counted from its start. */
    private void decompressed(byte[] out) throws IOException {
        int p = 0;
        while (p < out.length) {
            if (out[p] != '0') {
                throw new IOException("junk within compressed archive at " + p);
            }
            p = archive(out, p);
            while (p < out.length && out[p] == 0) {
                p++;
            }
            if (p < out.length && (p & 3) != 0) {
                throw new IOException("broken padding at " + p + " of a compressed archive");
            }
        }
    }

    /** One newc archive from {@code pos} to its TRAILER!!! entry; returns the offset after it. */
    private int archive(byte[] b, int pos) throws IOException {
        while (true) {
            if (pos + 110 > b.length) {
                throw new IOException("truncated cpio header at " + pos);
            }
            String magic = new String(b, pos, 6, StandardCharsets.US_ASCII);
            if (!magic.equals("070701") && !magic.equals("070702")) {
                throw new IOException("no cpio magic at " + pos);
            }
            long mode = hex(b, pos + 14);
            long size = hex(b, pos + 54);
            int nameSize = Math.toIntExact(hex(b, pos + 94));
            int name = pos + 110;
            String n = new String(b, name, nameSize - 1, StandardCharsets.UTF_8);
            int body = pos + ((110 + nameSize + 3) & ~3);
            int next = Math.toIntExact((body + size + 3) & ~3L);
            if (n.equals("TRAILER!!!")) {
                return next;
            }
            String path = n.startsWith("./") ? n.substring(2) : n.startsWith("/") ? n.substring(1) : n;
            String value = switch ((int) (mode & 0170000)) {
                case 0040000 -> "d";
                case 0120000 -> "l " + new String(b, body, (int) size, StandardCharsets.UTF_8);
                case 0100000 -> new String(b, body, (int) size, StandardCharsets.ISO_8859_1);
                default -> "special";
            };
            if (!(value.equals("d") && "d".equals(entries.get(path)))) {
                entries.put(path, value);
            }
            pos = next;
        }
    }

    private static long hex(byte[] b, int off) {
        return Long.parseLong(new String(b, off, 8, StandardCharsets.US_ASCII), 16);
    }

    /** One gzip member at {@code off}; {@code used[0]}: its length in bytes (header, deflate data, trailer). */
    private static byte[] gunzip(byte[] b, int off, int[] used) throws IOException {
        int flags = b[off + 3] & 0xff;
        int p = off + 10;
        if ((flags & 4) != 0) {
            p += 2 + ((b[p] & 0xff) | (b[p + 1] & 0xff) << 8);
        }
        if ((flags & 8) != 0) {
            while (b[p++] != 0) {
                // file name
            }
        }
        if ((flags & 16) != 0) {
            while (b[p++] != 0) {
                // comment
            }
        }
        if ((flags & 2) != 0) {
            p += 2;
        }
        Inflater inf = new Inflater(true);
        inf.setInput(b, p, b.length - p);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] chunk = new byte[1 << 16];
        try {
            while (!inf.finished()) {
                int n = inf.inflate(chunk);
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new IOException("truncated gzip member at " + off);
                }
                out.write(chunk, 0, n);
            }
        } catch (DataFormatException e) {
            throw new IOException(e);
        }
        used[0] = (b.length - p - inf.getRemaining()) + (p - off) + 8;
        inf.end();
        return out.toByteArray();
    }
}
