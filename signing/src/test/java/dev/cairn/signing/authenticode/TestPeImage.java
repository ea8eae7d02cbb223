package dev.cairn.signing.authenticode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * TEST-ONLY, minimal PE handling to put Authenticode signatures into real EFI binaries for the
 * oracle tests (sbverify, osslsigncode). The product's PE reader/writer lives in uki-builder; this
 * knows just enough (reference uki-pe-secureboot §5.1–5.2): image hash, certificate table.
 */
final class TestPeImage {
    private final byte[] file;
    private final int checksumOffset;
    private final int certDirOffset;
    private final int sizeOfHeaders;
    private final List<int[]> sections = new ArrayList<>(); // {pointerToRawData, sizeOfRawData}

    TestPeImage(byte[] file) {
        this.file = file;
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int pe = b.getInt(0x3C);
        if (b.getInt(pe) != 0x00004550) {
            throw new IllegalArgumentException("not a PE file");
        }
        int numberOfSections = Short.toUnsignedInt(b.getShort(pe + 6));
        int sizeOfOptionalHeader = Short.toUnsignedInt(b.getShort(pe + 20));
        int opt = pe + 24;
        int magic = Short.toUnsignedInt(b.getShort(opt));
        checksumOffset = opt + 64;
        sizeOfHeaders = b.getInt(opt + 60);
        int dataDirs = opt + (magic == 0x20b ? 112 : 96);
        certDirOffset = dataDirs + 4 * 8;
        int sectionTable = opt + sizeOfOptionalHeader;
        for (int i = 0; i < numberOfSections; i++) {
            int s = sectionTable + 40 * i;
            int rawSize = b.getInt(s + 16);
            if (rawSize > 0) {
                sections.add(new int[] {b.getInt(s + 20), rawSize});
            }
        }
        sections.sort(Comparator.comparingInt(s -> s[0]));
    }

    /** Existing certificate table size (0 when unsigned). */
    int certTableSize() {
        return ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getInt(certDirOffset + 4);
    }

    int certTableOffset() {
        return ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getInt(certDirOffset);
    }

    /** The first WIN_CERTIFICATE's PKCS#7 (dwLength is the unpadded length, as sbsign writes it). */
    byte[] firstSignature() {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int at = certTableOffset();
        int len = b.getInt(at);
        return Arrays.copyOfRange(file, at + 8, at + len);
    }

    /** The Authenticode digest of an unsigned image, as sbsign computes it (file padded to 8 bytes). */
    byte[] authenticodeDigest(String algorithm) throws Exception {
        if (certTableSize() != 0) {
            throw new IllegalStateException("test helper hashes unsigned images only");
        }
        MessageDigest md = MessageDigest.getInstance(algorithm);
        md.update(file, 0, checksumOffset);
        md.update(file, checksumOffset + 4, certDirOffset - (checksumOffset + 4));
        md.update(file, certDirOffset + 8, sizeOfHeaders - (certDirOffset + 8));
        long hashed = sizeOfHeaders;
        for (int[] s : sections) {
            md.update(file, s[0], s[1]);
            hashed += s[1];
        }
        byte[] padded = Arrays.copyOf(file, (file.length + 7) & ~7);
        if (padded.length > hashed) {
            md.update(padded, Math.toIntExact(hashed), Math.toIntExact(padded.length - hashed));
        }
        return md.digest();
    }

    /** The image with one WIN_CERTIFICATE holding {@code pkcs7} appended (sbsign's layout). */
    byte[] withSignature(byte[] pkcs7) {
        int tableOffset = (file.length + 7) & ~7;
        int dwLength = 8 + pkcs7.length;
        int padded = (dwLength + 7) & ~7;
        byte[] out = Arrays.copyOf(file, tableOffset + padded);
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(tableOffset, dwLength);
        b.putShort(tableOffset + 4, (short) 0x0200);
        b.putShort(tableOffset + 6, (short) 0x0002);
        System.arraycopy(pkcs7, 0, out, tableOffset + 8, pkcs7.length);
        b.putInt(certDirOffset, tableOffset);
        b.putInt(certDirOffset + 4, padded);
        return out;
    }
}
