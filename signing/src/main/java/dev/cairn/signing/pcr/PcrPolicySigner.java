package dev.cairn.signing.pcr;

import dev.cairn.signing.SigningException;
import java.util.ArrayList;
import java.util.List;

/**
 * Signs predicted PCR 11 values into systemd's PCR signature JSON ({@code .pcrsig};
 * reference uki-pe-secureboot §3.4–3.5). Per value: {@code pol} = {@link PcrPolicy} digest,
 * {@code sig} = RSASSA-PKCS1-v1_5 SHA-256 over {@code pol} for every bank: systemd's PolicyAuthorize
 * has the TPM verify a SHA-256 digest of {@code pol}. (systemd-measure 252 signs each bank's entries
 * with that bank's hash: sha1 with SHA-1, sha384 with SHA-384, … — observed in SystemdMeasureIT;
 * upstream fixed it in systemd#41051 "always sign with SHA256". Its sha256 entries are byte-identical
 * to ours.)
 * {@code pkfp} = SHA-256 of the PKCS#1 public key. Deterministic: same values and key, same bytes.
 */
public final class PcrPolicySigner {
    private PcrPolicySigner() {
    }

    /**
     * @param values PCR 11 predictions; banks appear in the JSON in the order they first occur
     *               here, entries of a bank in the order given
     */
    public static PcrSignatures sign(List<PcrValue> values, PcrSigningKey key) throws SigningException {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no PCR values to sign");
        }
        byte[] fingerprint = key.fingerprint();
        List<PcrBank> order = new ArrayList<>();
        for (PcrValue v : values) {
            if (!order.contains(v.bank())) {
                order.add(v.bank());
            }
        }
        List<PcrSignatures.Bank> banks = new ArrayList<>();
        for (PcrBank bank : order) {
            List<PcrPolicySignature> entries = new ArrayList<>();
            for (PcrValue v : values) {
                if (v.bank() == bank) {
                    byte[] pol = PcrPolicy.policyPcrDigest(v);
                    entries.add(new PcrPolicySignature(List.of(PcrPolicy.PCR_KERNEL_BOOT), fingerprint, pol, key.sign(pol)));
                }
            }
            banks.add(new PcrSignatures.Bank(bank, entries));
        }
        return new PcrSignatures(banks);
    }
}
