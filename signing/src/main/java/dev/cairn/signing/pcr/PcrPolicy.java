package dev.cairn.signing.pcr;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The TPM2 PolicyPCR digest systemd signs ({@code pol}): what {@code TPM2_PolicyPCR} leaves in a
 * fresh SHA-256 policy session when PCR 11 of the bank holds the given value (TPM 2.0 Library Part 3
 * §23.7; systemd src/shared/tpm2-util.c {@code tpm2_calculate_policy_pcr}):
 * <pre>
 * pol = SHA256( 0^32 ‖ BE32(TPM_CC_PolicyPCR = 0x17F) ‖ TPML_PCR_SELECTION ‖ SHA256(pcr value) )
 * </pre>
 * The policy session and the PCR-value digest are SHA-256 for every bank; only the selection's
 * hash algorithm names the bank.
 */
public final class PcrPolicy {
    /** TPM_CC_PolicyPCR. */
    public static final int TPM_CC_POLICY_PCR = 0x0000017F;
    /** PCR 11: the UKI's PCR (uapi TPM PCR registry). */
    public static final int PCR_KERNEL_BOOT = 11;

    private PcrPolicy() {
    }

    /** {@code pol} for PCR 11 holding {@code value.value()} in {@code value.bank()}. */
    public static byte[] policyPcrDigest(PcrValue value) {
        return policyPcrDigest(TpmlPcrSelection.of(value.bank(), PCR_KERNEL_BOOT), value.value());
    }

    /** {@code pol} for the selected PCRs whose concatenated values are {@code pcrValues}. */
    public static byte[] policyPcrDigest(TpmlPcrSelection selection, byte[] pcrValues) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            byte[] pcrDigest = sha256.digest(pcrValues);
            ByteBuffer b = ByteBuffer.allocate(32 + 4 + TpmlPcrSelection.SIZE + 32);
            b.put(new byte[32]).putInt(TPM_CC_POLICY_PCR).put(selection.encode()).put(pcrDigest);
            return sha256.digest(b.array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
