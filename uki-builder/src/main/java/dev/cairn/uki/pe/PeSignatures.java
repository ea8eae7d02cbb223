package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.util.List;

/**
 * Reads and replaces the attribute certificate table of a PE image: the signatures. The table
 * always sits at the end of the file at an 8-aligned offset; the security data directory holds
 * its file offset and padded size; the header CheckSum is recomputed (as sbsign does).
 */
public final class PeSignatures {
    private static final int CHUNK = 1 << 20;

    private PeSignatures() {
    }

    /** The signatures present, in table order. */
    public static List<WinCertificate> list(PeImage image, SeekableByteChannel ch) throws IOException {
        DataDirectory sec = image.securityDirectory();
        if (sec.size() == 0) {
            return List.of();
        }
        if (sec.size() > WinCertificate.MAX_TABLE) {
            throw new FormatException(image.securityDirectoryOffset(), "certificate table size", sec.size(), "larger than 16 MiB");
        }
        byte[] table = PeImage.readFully(ch, sec.virtualAddress(), Math.toIntExact(sec.size()));
        return WinCertificate.decodeTable(table, sec.virtualAddress());
    }

    /** Where the image's own bytes end: the certificate table's offset, or the file size. */
    static long bodyEnd(PeImage image) throws FormatException {
        DataDirectory sec = image.securityDirectory();
        if (sec.size() == 0) {
            return image.fileSize();
        }
        if (sec.virtualAddress() + sec.size() != image.fileSize()) {
            throw new FormatException(image.securityDirectoryOffset(), "certificate table", sec.virtualAddress() + "+" + sec.size(),
                    "is not at the end of the file; refusing to re-sign an image with data after its signatures");
        }
        if ((sec.virtualAddress() & 7) != 0) {
            throw new FormatException(image.securityDirectoryOffset(), "certificate table offset", sec.virtualAddress(),
                    "is not 8-byte aligned");
        }
        return sec.virtualAddress();
    }

    /**
     * Copies the image from {@code in} to {@code out} (empty, at position 0) with {@code table} as
     * its certificate table (empty: unsigned). Returns the size written.
     */
    public static long rewrite(PeImage image, SeekableByteChannel in, FileChannel out, List<WinCertificate> table)
            throws IOException {
        AuthenticodeHash.requireSecurityDirectory(image);
        long body = bodyEnd(image);
        long tableOffset = table.isEmpty() ? body : WinCertificate.pad8(body);
        long tableSize = 0;
        for (WinCertificate w : table) {
            tableSize += w.paddedSize();
        }
        byte[] header = image.headerBytes().clone();
        if (header.length > body) {
            throw new FormatException(0, "SizeOfHeaders", image.optional().sizeOfHeaders(), "headers extend past the image data");
        }
        DataDirectory dir = table.isEmpty() ? DataDirectory.EMPTY : new DataDirectory(tableOffset, tableSize);
        dir.encode(header, image.securityDirectoryOffset());
        LittleEndian.putU32(header, image.checksumOffset(), 0);

        PeChecksum sum = new PeChecksum();
        out.position(0);
        write(out, header, sum);
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        in.position(header.length);
        long left = body - header.length;
        while (left > 0) {
            buf.clear();
            buf.limit(Math.toIntExact(Math.min(CHUNK, left)));
            int n = in.read(buf);
            if (n < 0) {
                throw new FormatException(body - left, "image", null, "file shrank while being read");
            }
            buf.flip();
            sum.update(buf.array(), 0, n);
            while (buf.hasRemaining()) {
                out.write(buf);
            }
            left -= n;
        }
        if (!table.isEmpty()) {
            write(out, new byte[Math.toIntExact(tableOffset - body)], sum);
            for (WinCertificate w : table) {
                write(out, w.encode(), sum);
            }
        }
        byte[] checksum = new byte[4];
        LittleEndian.putU32(checksum, 0, sum.value());
        out.write(ByteBuffer.wrap(checksum), image.checksumOffset());
        return sum.length();
    }

    private static void write(FileChannel out, byte[] b, PeChecksum sum) throws IOException {
        sum.update(b, 0, b.length);
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.hasRemaining()) {
            out.write(bb);
        }
    }
}
