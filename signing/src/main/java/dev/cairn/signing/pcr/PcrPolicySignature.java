package dev.cairn.signing.pcr;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * One entry of a bank's array in systemd's PCR signature JSON:
 * {@code {"pcrs":[11],"pkfp":"<hex>","pol":"<hex>","sig":"<base64>"}} (measure-tool.c
 * {@code build_policy_digest}), fields in that order.
 *
 * @param pcrs        the PCRs the policy covers ({@code [11]})
 * @param fingerprint {@code pkfp}: SHA-256 of the PKCS#1 RSAPublicKey DER of the signing key
 * @param policy      {@code pol}: the PolicyPCR digest
 * @param signature   {@code sig}: RSASSA-PKCS1-v1_5 with SHA-256 over {@code pol}
 */
public record PcrPolicySignature(List<Integer> pcrs, byte[] fingerprint, byte[] policy, byte[] signature) {
    public PcrPolicySignature {
        pcrs = List.copyOf(pcrs);
        fingerprint = fingerprint.clone();
        policy = policy.clone();
        signature = signature.clone();
    }

    @Override
    public byte[] fingerprint() {
        return fingerprint.clone();
    }

    @Override
    public byte[] policy() {
        return policy.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    public String policyHex() {
        return HexFormat.of().formatHex(policy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PcrPolicySignature s && s.pcrs.equals(pcrs) && Arrays.equals(s.fingerprint, fingerprint)
                && Arrays.equals(s.policy, policy) && Arrays.equals(s.signature, signature);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pcrs, Arrays.hashCode(fingerprint), Arrays.hashCode(policy), Arrays.hashCode(signature));
    }

    @Override
    public String toString() {
        return "PcrPolicySignature[pcrs=" + pcrs + ", pol=" + policyHex() + "]";
    }
}
