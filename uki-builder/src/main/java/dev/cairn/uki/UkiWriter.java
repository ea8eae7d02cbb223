package dev.cairn.uki;

import dev.cairn.io.LittleEndian;
import dev.cairn.uki.pe.AuthenticodeHash;
import dev.cairn.uki.pe.DataDirectory;
import dev.cairn.uki.pe.ImageSigner;
import dev.cairn.uki.pe.PeChecksum;
import dev.cairn.uki.pe.WinCertificate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams a {@link UkiLayout.Plan} to a file once: headers, then each section's data in file
 * order. The Authenticode digest (CheckSum and certificate-table entry skipped) and the PE
 * CheckSum are by-products of the same pass; signatures are appended as a certificate table and
 * the two header fields patched at the end.
 */
public final class UkiWriter {
    private UkiWriter() {
    }

    /** What was written. {@code authenticodeDigest} is SHA-256 unless another algorithm was asked for. */
    public record Result(long size, byte[] authenticodeDigest, int signatures) {
    }

    /**
     * @param out     an empty file channel
     * @param signers zero or more signers; each adds one WIN_CERTIFICATE entry
     */
    public static Result write(UkiLayout.Plan plan, FileChannel out, String digestAlgorithm, List<ImageSigner> signers)
            throws IOException {
        return write(plan, out, digestAlgorithm, signers, n -> { });
    }

    /**
     * Like {@link #write(UkiLayout.Plan, FileChannel, String, List)}; {@code written} hears of the
     * bytes (headers, sections) as they are written (a progress display; of {@code plan.size()} in all).
     */
    public static Result write(UkiLayout.Plan plan, FileChannel out, String digestAlgorithm, List<ImageSigner> signers,
                               java.util.function.LongConsumer written) throws IOException {
        return write(plan, out, digestAlgorithm, signers, written, plan.size() >= WriteBehind.MIN_SIZE);
    }

    /** {@code writeBehind}: sum and write on a second thread (large plans; tests compare both ways). */
    static Result write(UkiLayout.Plan plan, FileChannel out, String digestAlgorithm, List<ImageSigner> signers,
                        java.util.function.LongConsumer written, boolean writeBehind) throws IOException {
        MessageDigest md = AuthenticodeHash.digest(digestAlgorithm);
        PeChecksum sum = new PeChecksum();
        byte[] headers = plan.headers();
        int cs = plan.checksumOffset();
        int sd = plan.securityDirectoryOffset();
        md.update(headers, 0, cs);
        md.update(headers, cs + 4, sd - cs - 4);
        md.update(headers, sd + DataDirectory.SIZE, headers.length - sd - DataDirectory.SIZE);
        sum.update(headers, 0, headers.length);
        out.position(0);
        writeAll(out, headers);
        written.accept(headers.length);
        // large: this thread reads and hashes, a second one sums and writes (see WriteBehind); a null resource is skipped
        long[] pos = {headers.length};
        try (WriteBehind behind = writeBehind ? new WriteBehind(out, sum) : null) {
            for (UkiLayout.PlannedSection s : plan.sections()) {
                if (s.header().pointerToRawData() != pos[0]) {
                    throw new IllegalStateException("plan is not contiguous at section " + s.header().name());
                }
                s.data().writeTo((b, off, len) -> {
                    md.update(b, off, len);
                    if (behind != null) {
                        behind.accept(b, off, len);
                    } else {
                        sum.update(b, off, len);
                        writeAll(out, ByteBuffer.wrap(b, off, len));
                    }
                    pos[0] += len;
                    written.accept(len);
                });
            }
            if (behind != null) {
                behind.finish();
            }
        }
        if (sum.length() != plan.size()) {
            throw new IllegalStateException("wrote " + sum.length() + " bytes, planned " + plan.size());
        }
        if (signers.isEmpty()) {
            byte[] digest = md.digest(new byte[Math.toIntExact(WinCertificate.pad8(sum.length()) - sum.length())]);
            patchChecksum(out, cs, sum);
            return new Result(sum.length(), digest, 0);
        }
        byte[] pad = new byte[Math.toIntExact(WinCertificate.pad8(sum.length()) - sum.length())];
        md.update(pad);
        byte[] digest = md.digest();
        sum.update(pad, 0, pad.length);
        writeAll(out, pad);
        long tableOffset = sum.length();
        List<byte[]> entries = new ArrayList<>();
        for (ImageSigner signer : signers) {
            entries.add(WinCertificate.pkcs7(signer.sign(digestAlgorithm, digest)).encode());
        }
        long tableSize = 0;
        for (byte[] e : entries) {
            sum.update(e, 0, e.length);
            writeAll(out, e);
            tableSize += e.length;
        }
        byte[] dir = new byte[DataDirectory.SIZE];
        new DataDirectory(tableOffset, tableSize).encode(dir, 0);
        out.write(ByteBuffer.wrap(dir), sd);
        sum.addWordsAt(sd, dir);
        patchChecksum(out, cs, sum);
        return new Result(sum.length(), digest, signers.size());
    }

    private static void patchChecksum(FileChannel out, int offset, PeChecksum sum) throws IOException {
        byte[] c = new byte[4];
        LittleEndian.putU32(c, 0, sum.value());
        out.write(ByteBuffer.wrap(c), offset);
    }

    private static void writeAll(FileChannel out, byte[] b) throws IOException {
        writeAll(out, ByteBuffer.wrap(b));
    }

    private static void writeAll(FileChannel out, ByteBuffer bb) throws IOException {
        while (bb.hasRemaining()) {
            out.write(bb);
        }
    }
}
