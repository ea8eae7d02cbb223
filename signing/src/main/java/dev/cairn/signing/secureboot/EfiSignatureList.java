package dev.cairn.signing.secureboot;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * {@code EFI_SIGNATURE_LIST} (UEFI 2.10 §32.4.1), little-endian, as PK, KEK, db and dbx hold them
 * back to back:
 * <pre>
 * +0  GUID SignatureType        (EFI_CERT_X509_GUID, EFI_CERT_SHA256_GUID, …)
 * +16 u32  SignatureListSize    (whole list)
 * +20 u32  SignatureHeaderSize
 * +24 u32  SignatureSize        (each EFI_SIGNATURE_DATA: owner GUID ‖ data)
 * +28 u8[SignatureHeaderSize] header, then EFI_SIGNATURE_DATA[…]
 * </pre>
 *
 * @param type    SignatureType
 * @param entries the EFI_SIGNATURE_DATA entries
 */
public record EfiSignatureList(UUID type, List<Entry> entries) {
    /** EFI_CERT_SHA256_GUID: entries are 32-byte image digests. */
    public static final UUID CERT_SHA256 = UUID.fromString("c1c41626-504c-4092-aca9-41f936934328");
    static final int HEADER = 28;

    /** One {@code EFI_SIGNATURE_DATA}: owner GUID (16 bytes) ‖ data. */
    public record Entry(UUID owner, byte[] data) {
        public Entry {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        /** SHA-256 of the data (a certificate's DER, an image digest): how reports name the entry. */
        public byte[] dataSha256() {
            return EfiVariables.sha256(data);
        }

        /** The entry as stored: owner GUID ‖ data (what the firmware measures as the authority). */
        public byte[] encode() {
            byte[] out = new byte[16 + data.length];
            System.arraycopy(EfiVariables.guid(owner), 0, out, 0, 16);
            System.arraycopy(data, 0, out, 16, data.length);
            return out;
        }
    }

    public EfiSignatureList {
        entries = List.copyOf(entries);
    }

    /** Every list in a variable's contents, in order; refuses a list that runs past the data. */
    public static List<EfiSignatureList> parseAll(byte[] data, String variable) throws FormatException {
        List<EfiSignatureList> out = new ArrayList<>();
        int p = 0;
        while (p < data.length) {
            if (data.length - p < HEADER) {
                throw new FormatException(p, variable + " EFI_SIGNATURE_LIST", data.length - p, "truncated list header");
            }
            UUID type = OvmfVarStore.uuid(Arrays.copyOfRange(data, p, p + 16));
            long listSize = LittleEndian.u32(data, p + 16, "SignatureListSize");
            long headerSize = LittleEndian.u32(data, p + 20, "SignatureHeaderSize");
            long sigSize = LittleEndian.u32(data, p + 24, "SignatureSize");
            if (listSize < HEADER + headerSize || listSize > data.length - p) {
                throw new FormatException(p + 16, variable + " SignatureListSize", listSize, "runs past the variable");
            }
            long body = listSize - HEADER - headerSize;
            if (sigSize < 16 || body % sigSize != 0) {
                throw new FormatException(p + 24, variable + " SignatureSize", sigSize,
                        "not an owner GUID plus data dividing the list body of " + body + " bytes");
            }
            List<Entry> entries = new ArrayList<>();
            for (long q = p + HEADER + headerSize; q < p + listSize; q += sigSize) {
                int at = Math.toIntExact(q);
                UUID owner = OvmfVarStore.uuid(Arrays.copyOfRange(data, at, at + 16));
                entries.add(new Entry(owner, Arrays.copyOfRange(data, at + 16, Math.toIntExact(q + sigSize))));
            }
            out.add(new EfiSignatureList(type, entries));
            p = Math.toIntExact(p + listSize);
        }
        return out;
    }
}
