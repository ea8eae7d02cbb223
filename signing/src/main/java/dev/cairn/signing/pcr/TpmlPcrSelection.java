package dev.cairn.signing.pcr;

import java.nio.ByteBuffer;

/**
 * {@code TPML_PCR_SELECTION} holding one {@code TPMS_PCR_SELECTION} (TPM 2.0 Library Part 2
 * §10.6.2, §10.9.7), big-endian, as systemd's {@code tpm2_calculate_policy_pcr} marshals it:
 * <pre>
 * +0  u32 count = 1
 * +4  u16 hash  (TPM_ALG_ID of the bank)
 * +6  u8  sizeofSelect = 3   (24 PCRs)
 * +7  u8  pcrSelect[3]       (PCR n = bit n%8 of byte n/8)
 * </pre>
 *
 * @param bank the bank whose PCRs are selected
 * @param pcrs bit mask of selected PCRs 0–23
 */
public record TpmlPcrSelection(PcrBank bank, int pcrs) {
    public static final int SIZE = 10;
    static final int SIZEOF_SELECT = 3;

    public TpmlPcrSelection {
        java.util.Objects.requireNonNull(bank, "bank");
        if ((pcrs & ~0xFFFFFF) != 0) {
            throw new IllegalArgumentException("PCR mask " + Integer.toHexString(pcrs) + " selects PCRs above 23");
        }
    }

    /** Selects a single PCR. */
    public static TpmlPcrSelection of(PcrBank bank, int pcr) {
        if (pcr < 0 || pcr > 23) {
            throw new IllegalArgumentException("PCR " + pcr + " is not 0..23");
        }
        return new TpmlPcrSelection(bank, 1 << pcr);
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.putInt(1);
        b.putShort((short) bank.algorithmId()); // TPM_ALG_IDs are u16 by definition (all < 0x10000)
        b.put((byte) SIZEOF_SELECT);
        for (int i = 0; i < SIZEOF_SELECT; i++) {
            b.put((byte) ((pcrs >>> (8 * i)) & 0xFF));
        }
        return b.array();
    }
}
