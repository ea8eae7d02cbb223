package dev.cairn.signing.tpm;

/**
 * The TPM_CC values of the policy commands cairn computes (TPM 2.0 Library Part 2 §6.5.2).
 */
public enum TpmCommandCode {
    POLICY_NV(0x0000_0149),
    POLICY_AUTHORIZE(0x0000_016A),
    POLICY_AUTH_VALUE(0x0000_016B),
    POLICY_OR(0x0000_0171),
    POLICY_PCR(0x0000_017F);

    private final int value;

    TpmCommandCode(int value) {
        this.value = value;
    }

    /** The command code as the TPM marshals it (u32, big-endian). */
    public int value() {
        return value;
    }
}
