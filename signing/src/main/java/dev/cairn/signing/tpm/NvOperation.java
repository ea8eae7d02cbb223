package dev.cairn.signing.tpm;

import java.util.Locale;

/**
 * TPM_EO: how {@code TPM2_PolicyNV} compares the NV contents with the operand (TPM 2.0 Library
 * Part 2 §6.8), with the names tpm2-tools' {@code tpm2_policynv} accepts.
 */
public enum NvOperation {
    EQ(0x0000), NEQ(0x0001), SGT(0x0002), UGT(0x0003), SLT(0x0004), ULT(0x0005), SGE(0x0006), UGE(0x0007),
    SLE(0x0008), ULE(0x0009), BS(0x000A), BC(0x000B);

    private final int value;

    NvOperation(int value) {
        this.value = value;
    }

    /** TPM_EO value (u16). */
    public int value() {
        return value;
    }

    /** By tpm2-tools name ({@code eq}, {@code ult}, …); API misuse otherwise. */
    public static NvOperation of(String name) {
        for (NvOperation o : values()) {
            if (o.name().equalsIgnoreCase(name)) {
                return o;
            }
        }
        throw new IllegalArgumentException("unknown NV comparison " + name.toLowerCase(Locale.ROOT)
                + " (eq, neq, sgt, ugt, slt, ult, sge, uge, sle, ule, bs, bc)");
    }
}
