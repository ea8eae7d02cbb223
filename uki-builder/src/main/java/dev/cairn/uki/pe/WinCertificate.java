package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One entry of the attribute certificate table (PE/COFF §5.7), the Authenticode signature of
 * an image. Entries start 8-byte aligned; like sbsign, {@code dwLength} is the unpadded length
 * and the zero padding to the next multiple of 8 follows.
 *
 * @param revision        +4 u16, 0x0200 (WIN_CERT_REVISION_2_0)
 * @param certificateType +6 u16, 0x0002 (WIN_CERT_TYPE_PKCS_SIGNED_DATA)
 * @param certificate     +8 the DER PKCS#7 ContentInfo; dwLength at +0 = 8 + its length
 */
public record WinCertificate(int revision, int certificateType, byte[] certificate) {
    public static final int HEADER_SIZE = 8;
    public static final int REVISION_2_0 = 0x0200;
    public static final int TYPE_PKCS_SIGNED_DATA = 0x0002;
    /** Certificate tables beyond this are refused when reading. */
    public static final long MAX_TABLE = 16L * 1024 * 1024;

    public WinCertificate {
        certificate = certificate.clone();
    }

    public static WinCertificate pkcs7(byte[] der) {
        return new WinCertificate(REVISION_2_0, TYPE_PKCS_SIGNED_DATA, der);
    }

    @Override
    public byte[] certificate() {
        return certificate.clone();
    }

    /** Bytes this entry occupies in the table, padding included. */
    public int paddedSize() {
        return Math.toIntExact(pad8(HEADER_SIZE + (long) certificate.length));
    }

    /** Header, certificate and zero padding to 8 bytes. */
    public byte[] encode() {
        byte[] out = new byte[paddedSize()];
        LittleEndian.putU32(out, 0, HEADER_SIZE + (long) certificate.length);
        LittleEndian.putU16(out, 4, revision);
        LittleEndian.putU16(out, 6, certificateType);
        System.arraycopy(certificate, 0, out, HEADER_SIZE, certificate.length);
        return out;
    }

    public static long pad8(long v) {
        return (v + 7) & ~7L;
    }

    /** Parses a whole table (the bytes the security data directory points at). */
    public static List<WinCertificate> decodeTable(byte[] table, long tableOffset) throws FormatException {
        List<WinCertificate> out = new ArrayList<>();
        int pos = 0;
        while (pos < table.length) {
            if (table.length - pos < HEADER_SIZE) {
                throw new FormatException(tableOffset + pos, "WIN_CERTIFICATE", null, "truncated entry header");
            }
            long len = LittleEndian.u32(table, pos, "dwLength");
            if (len < HEADER_SIZE || len > table.length - pos) {
                throw new FormatException(tableOffset + pos, "WIN_CERTIFICATE.dwLength", len, "entry does not fit in the table");
            }
            int rev = LittleEndian.u16(table, pos + 4, "wRevision");
            int type = LittleEndian.u16(table, pos + 6, "wCertificateType");
            out.add(new WinCertificate(rev, type, Arrays.copyOfRange(table, pos + HEADER_SIZE, Math.toIntExact(pos + len))));
            pos = Math.toIntExact(Math.min(table.length, pad8(pos + len)));
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WinCertificate w && w.revision == revision && w.certificateType == certificateType
                && Arrays.equals(w.certificate, certificate);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(certificate) * 31 + revision * 7 + certificateType;
    }

    @Override
    public String toString() {
        return "WinCertificate[rev=0x" + Integer.toHexString(revision) + ", type=" + certificateType + ", " + certificate.length + " bytes]";
    }
}
