package dev.cairn.signing.pcr;

import java.util.HexFormat;
import java.util.Objects;

/**
 * A predicted PCR 11 value in one bank after one boot phase path (what {@code systemd-measure
 * calculate} prints; computed by the UKI builder).
 *
 * @param bank      the PCR bank
 * @param phasePath the phase path, e.g. {@code enter-initrd:leave-initrd} ({@code :} for none); not
 *                  part of the JSON, kept for messages and reports
 * @param value     the PCR value, {@code bank.digestLength()} bytes
 */
public record PcrValue(PcrBank bank, String phasePath, byte[] value) {
    public PcrValue {
        Objects.requireNonNull(bank, "bank");
        Objects.requireNonNull(phasePath, "phasePath");
        if (value.length != bank.digestLength()) {
            throw new IllegalArgumentException("a " + bank.jsonName() + " PCR value has " + bank.digestLength()
                    + " bytes, not " + value.length);
        }
        value = value.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PcrValue v && v.bank == bank && v.phasePath.equals(phasePath) && java.util.Arrays.equals(v.value, value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bank, phasePath, java.util.Arrays.hashCode(value));
    }

    @Override
    public String toString() {
        return "PcrValue[" + bank.jsonName() + " " + phasePath + " " + HexFormat.of().formatHex(value) + "]";
    }
}
