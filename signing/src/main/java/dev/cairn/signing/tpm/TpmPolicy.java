package dev.cairn.signing.tpm;

import dev.cairn.signing.pcr.PcrBank;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A TPM2 policy digest computed offline, as a trial session would leave it (TPM 2.0 Library Part 3
 * §23; formulas checked against tpm2-tools on swtpm, see measured-boot.md §2). SHA-256 policy
 * sessions; every integer big-endian. Immutable: each step returns a new policy.
 * <pre>
 * PolicyPCR        d' = H(d ‖ 0000017F ‖ TPML_PCR_SELECTION ‖ H(selected PCR values, selection order))
 * PolicyAuthorize  d' = H(H(0^32 ‖ 0000016A ‖ keyName) ‖ policyRef)      (the TPM resets d first)
 * PolicyNV         d' = H(d ‖ 00000149 ‖ H(operandB ‖ u16 offset ‖ u16 operation) ‖ nvIndexName)
 * PolicyOR         d' = H(0^32 ‖ 00000171 ‖ d1 ‖ … ‖ dn)                  (d must be one of d1…dn)
 * PolicyAuthValue  d' = H(d ‖ 0000016B)
 * </pre>
 */
public final class TpmPolicy {
    /** Size of a SHA-256 policy digest. */
    public static final int DIGEST_SIZE = 32;

    /** One step and the digest it leaves. */
    public record Step(String kind, String description, byte[] digest) {
        public Step {
            digest = digest.clone();
        }

        @Override
        public byte[] digest() {
            return digest.clone();
        }

        public String digestHex() {
            return HexFormat.of().formatHex(digest);
        }
    }

    /** A PCR and the value it must hold. */
    public record PcrCondition(PcrBank bank, int pcr, byte[] value) {
        public PcrCondition {
            if (pcr < 0 || pcr > 23) {
                throw new IllegalArgumentException("PCR " + pcr + " is not 0..23");
            }
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
    }

    private final byte[] digest;
    private final List<Step> steps;

    private TpmPolicy(byte[] digest, List<Step> steps) {
        this.digest = digest;
        this.steps = List.copyOf(steps);
    }

    /** A fresh session: 32 zero bytes. */
    public static TpmPolicy start() {
        return new TpmPolicy(new byte[DIGEST_SIZE], List.of());
    }

    public byte[] digest() {
        return digest.clone();
    }

    public String digestHex() {
        return HexFormat.of().formatHex(digest);
    }

    public List<Step> steps() {
        return steps;
    }

    private TpmPolicy then(String kind, String description, byte[] next) {
        List<Step> s = new ArrayList<>(steps);
        s.add(new Step(kind, description, next));
        return new TpmPolicy(next, s);
    }

    /**
     * TPM2_PolicyPCR over the given PCRs: one TPMS_PCR_SELECTION per bank in the order the banks
     * first appear, PCRs ascending within a bank, their values concatenated in that order (as
     * {@code tpm2_createpolicy --policy-pcr -l sha256:7,11 -f values} takes them).
     */
    public TpmPolicy pcr(List<PcrCondition> conditions) {
        if (conditions.isEmpty()) {
            throw new IllegalArgumentException("PolicyPCR needs at least one PCR");
        }
        Map<PcrBank, TreeMap<Integer, byte[]>> byBank = new LinkedHashMap<>();
        for (PcrCondition c : conditions) {
            byte[] prev = byBank.computeIfAbsent(c.bank(), b -> new TreeMap<>()).put(c.pcr(), c.value());
            if (prev != null && !Arrays.equals(prev, c.value())) {
                throw new IllegalArgumentException("PCR " + c.pcr() + " of " + c.bank().jsonName() + " is given two values");
            }
        }
        ByteArrayOutputStream selection = new ByteArrayOutputStream();
        ByteArrayOutputStream values = new ByteArrayOutputStream();
        selection.writeBytes(ByteBuffer.allocate(4).putInt(byBank.size()).array());
        List<String> names = new ArrayList<>();
        for (Map.Entry<PcrBank, TreeMap<Integer, byte[]>> e : byBank.entrySet()) {
            int mask = 0;
            for (Map.Entry<Integer, byte[]> p : e.getValue().entrySet()) {
                mask |= 1 << p.getKey();
                values.writeBytes(p.getValue());
            }
            ByteBuffer s = ByteBuffer.allocate(6);
            s.putShort((short) e.getKey().algorithmId()).put((byte) 3)
                    .put((byte) (mask & 0xFF)).put((byte) ((mask >>> 8) & 0xFF)).put((byte) ((mask >>> 16) & 0xFF));
            selection.writeBytes(s.array());
            names.add(e.getKey().jsonName() + ":" + String.join(",", e.getValue().keySet().stream().map(String::valueOf).toList()));
        }
        byte[] next = sha256(digest, cc(TpmCommandCode.POLICY_PCR), selection.toByteArray(), sha256(values.toByteArray()));
        return then("pcr", String.join("+", names), next);
    }

    /**
     * TPM2_PolicyAuthorize with a key's name ({@link TpmtPublic#name}) and a policy reference
     * (empty for none). What came before is the approved policy the key signs; the result does
     * not depend on it.
     */
    public TpmPolicy authorize(byte[] keyName, byte[] policyRef) {
        byte[] first = sha256(new byte[DIGEST_SIZE], cc(TpmCommandCode.POLICY_AUTHORIZE), keyName);
        byte[] next = sha256(first, policyRef);
        return then("authorize", "key name " + HexFormat.of().formatHex(keyName)
                + (policyRef.length == 0 ? "" : ", policy reference " + HexFormat.of().formatHex(policyRef)), next);
    }

    /** TPM2_PolicyNV: the index (named with its public area as written) compared with {@code operand}. */
    public TpmPolicy nv(TpmsNvPublic index, byte[] operand, int offset, NvOperation operation) {
        if (offset < 0 || offset > 0xFFFF || operand.length > 0xFFFF) {
            throw new IllegalArgumentException("PolicyNV offset or operand out of range");
        }
        byte[] args = sha256(operand, ByteBuffer.allocate(4).putShort((short) offset).putShort((short) operation.value()).array());
        byte[] next = sha256(digest, cc(TpmCommandCode.POLICY_NV), args, index.name());
        return then("nv", String.format(Locale.ROOT, "index 0x%08x %s %s at offset %d", index.index(),
                operation.name().toLowerCase(Locale.ROOT), HexFormat.of().formatHex(operand), offset), next);
    }

    /**
     * TPM2_PolicyOR of 2–8 branch digests. The policy so far must be one of them (a fresh
     * session counts as none): otherwise no session can satisfy the result, which is refused.
     */
    public TpmPolicy or(List<byte[]> branches) {
        if (branches.size() < 2 || branches.size() > 8) {
            throw new IllegalArgumentException("PolicyOR takes 2 to 8 branches, not " + branches.size());
        }
        boolean fresh = Arrays.equals(digest, new byte[DIGEST_SIZE]);
        boolean member = false;
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (byte[] b : branches) {
            if (b.length != DIGEST_SIZE) {
                throw new IllegalArgumentException("a PolicyOR branch is a 32-byte SHA-256 policy digest, not " + b.length + " bytes");
            }
            member |= Arrays.equals(b, digest);
            list.writeBytes(b);
        }
        if (!fresh && !member) {
            throw new IllegalArgumentException("the policy before PolicyOR (" + digestHex()
                    + ") is none of its branches: no session could satisfy it");
        }
        byte[] next = sha256(new byte[DIGEST_SIZE], cc(TpmCommandCode.POLICY_OR), list.toByteArray());
        return then("or", branches.size() + " branches", next);
    }

    /** TPM2_PolicyAuthValue: the object's authorization value is also required. */
    public TpmPolicy authValue() {
        return then("auth-value", "authorization value", sha256(digest, cc(TpmCommandCode.POLICY_AUTH_VALUE)));
    }

    private static byte[] cc(TpmCommandCode c) {
        return ByteBuffer.allocate(4).putInt(c.value()).array();
    }

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
