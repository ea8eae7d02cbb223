package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.List;

/**
 * The Authenticode image digest, over the ranges edk2's {@code HashPeImage} and sbsign hash
 * (Authenticode PE specification; {@code DxeImageVerificationLib.c}):
 * <ol>
 * <li>[0, CheckSum), then from after CheckSum up to the certificate-table directory entry, then
 *     from after that entry up to SizeOfHeaders;</li>
 * <li>each section with raw data, in PointerToRawData order, SizeOfRawData bytes;</li>
 * <li>whatever follows the last section up to the certificate table (or the end of the file),
 *     including, for an unsigned image, the zero padding to 8 bytes that signing will add.</li>
 * </ol>
 */
public final class AuthenticodeHash {
    private static final int CHUNK = 1 << 20;

    private AuthenticodeHash() {
    }

    /** Digest of the image in {@code ch}, as it will be after signing (8-byte padded). */
    public static byte[] compute(PeImage image, SeekableByteChannel ch, String algorithm) throws IOException {
        MessageDigest md = digest(algorithm);
        requireSecurityDirectory(image);
        long sizeOfHeaders = image.optional().sizeOfHeaders();
        int checksum = image.checksumOffset();
        int secDir = image.securityDirectoryOffset();
        if (secDir + DataDirectory.SIZE > sizeOfHeaders) {
            throw new FormatException(secDir, "SizeOfHeaders", sizeOfHeaders, "headers end before the certificate table entry");
        }
        hashRange(ch, md, 0, checksum);
        hashRange(ch, md, checksum + 4, secDir - checksum - 4L);
        hashRange(ch, md, secDir + DataDirectory.SIZE, sizeOfHeaders - secDir - DataDirectory.SIZE);
        long hashed = sizeOfHeaders;
        List<SectionHeader> sections = image.sections().stream().filter(s -> s.sizeOfRawData() > 0)
                .sorted(Comparator.comparingLong(SectionHeader::pointerToRawData)).toList();
        for (SectionHeader s : sections) {
            hashRange(ch, md, s.pointerToRawData(), s.sizeOfRawData());
            hashed += s.sizeOfRawData();
        }
        DataDirectory sec = image.securityDirectory();
        long end = sec.size() != 0 ? sec.virtualAddress() : image.fileSize();
        if (end > hashed) {
            hashRange(ch, md, hashed, end - hashed);
        }
        if (sec.size() == 0) {
            long pad = WinCertificate.pad8(image.fileSize()) - image.fileSize();
            md.update(new byte[Math.toIntExact(pad)]); // 0..7
        }
        return md.digest();
    }

    static void requireSecurityDirectory(PeImage image) throws FormatException {
        if (image.optional().numberOfRvaAndSizes() <= DataDirectory.SECURITY) {
            throw new FormatException(image.optionalHeaderOffset(), "NumberOfRvaAndSizes", image.optional().numberOfRvaAndSizes(),
                    "image has no certificate table directory entry, it cannot carry a signature");
        }
    }

    public static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("unknown digest algorithm " + algorithm, e);
        }
    }

    private static void hashRange(SeekableByteChannel ch, MessageDigest md, long pos, long len) throws IOException {
        if (len <= 0) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(Math.min(CHUNK, len)));
        ch.position(pos);
        long left = len;
        while (left > 0) {
            buf.clear();
            buf.limit(Math.toIntExact(Math.min(buf.capacity(), left)));
            int n = ch.read(buf);
            if (n < 0) {
                throw new FormatException(pos + len - left, "image", null, "file ends inside a hashed range");
            }
            md.update(buf.array(), 0, n);
            left -= n;
        }
    }
}
