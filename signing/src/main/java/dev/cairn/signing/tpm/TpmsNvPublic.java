package dev.cairn.signing.tpm;

import dev.cairn.io.FormatException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * {@code TPMS_NV_PUBLIC} (TPM 2.0 Library Part 2 §13.5), big-endian, whose SHA-256 is an NV
 * index's name:
 * <pre>
 * +0  u32        nvIndex      TPMI_RH_NV_INDEX (0x01xxxxxx)
 * +4  u16        nameAlg      TPM_ALG_ID (0x000B = SHA-256)
 * +6  u32        attributes   TPMA_NV
 * +10 TPM2B      authPolicy   u16 size ‖ digest
 * +.. u16        dataSize
 * </pre>
 *
 * @param index      the NV index handle
 * @param attributes TPMA_NV bits
 * @param authPolicy the index's authorization policy (empty for none)
 * @param dataSize   the index's size in bytes
 */
public record TpmsNvPublic(int index, int attributes, byte[] authPolicy, int dataSize) {
    /** TPM_ALG_SHA256: the only name algorithm cairn computes. */
    public static final int NAME_ALG_SHA256 = 0x000B;
    /** TPMA_NV_WRITTEN: set by the TPM at the first write; part of the name a PolicyNV checks. */
    public static final int WRITTEN = 1 << 29;
    private static final String[] ATTRIBUTE_NAMES = {
        "ppwrite", "ownerwrite", "authwrite", "policywrite", null, null, null, null, // bits 4-7: TPM_NT
        null, null, "policy_delete", "writelocked", "writeall", "writedefine", "write_stclear", "globallock",
        "ppread", "ownerread", "authread", "policyread", null, null, null, null,
        null, "no_da", "orderly", "clear_stclear", "readlocked", "written", "platformcreate", "read_stclear"};

    public TpmsNvPublic {
        if ((index >>> 24) != 0x01) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "0x%08x is not an NV index (0x01xxxxxx)", index));
        }
        if (authPolicy.length > 0xFFFF || dataSize < 0 || dataSize > 0xFFFF) {
            throw new IllegalArgumentException("NV public area out of range");
        }
        authPolicy = authPolicy.clone();
    }

    @Override
    public byte[] authPolicy() {
        return authPolicy.clone();
    }

    /** The same index with TPMA_NV_WRITTEN set, as it is once written (what a satisfiable PolicyNV names). */
    public TpmsNvPublic written() {
        return new TpmsNvPublic(index, attributes | WRITTEN, authPolicy, dataSize);
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(4 + 2 + 4 + 2 + authPolicy.length + 2);
        b.putInt(index).putShort((short) NAME_ALG_SHA256).putInt(attributes);
        b.putShort((short) authPolicy.length).put(authPolicy); // ≤ 0xFFFF, checked above
        b.putShort((short) dataSize);
        return b.array();
    }

    /** The index's name: {@code 000B ‖ SHA-256(TPMS_NV_PUBLIC)}. */
    public byte[] name() {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(encode());
            return ByteBuffer.allocate(2 + h.length).putShort((short) NAME_ALG_SHA256).put(h).array();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /**
     * TPMA_NV from {@code 0x20060002} or tpm2-tools' {@code ownerwrite|ownerread|authread} (the NV
     * type bits 4–7 as {@code nt=ordinary|counter|bits|extend|pinfail|pinpass} or {@code nt=N}).
     */
    public static int parseAttributes(String s) throws FormatException {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("0x")) {
            try {
                return Integer.parseUnsignedInt(t.substring(2), 16);
            } catch (NumberFormatException e) {
                throw new FormatException("TPMA_NV", s, "not a 32-bit hex value");
            }
        }
        int bits = 0;
        for (String part : t.split("\\|")) {
            String p = part.trim();
            if (p.startsWith("nt=")) {
                bits |= ntValue(p.substring(3), s) << 4;
                continue;
            }
            int bit = -1;
            for (int i = 0; i < ATTRIBUTE_NAMES.length; i++) {
                if (p.equals(ATTRIBUTE_NAMES[i])) {
                    bit = i;
                }
            }
            if (bit < 0) {
                throw new FormatException("TPMA_NV", p, "unknown NV attribute (tpm2-tools names: ownerwrite, ownerread, "
                        + "authread, authwrite, policyread, policywrite, no_da, written, …)");
            }
            bits |= 1 << bit;
        }
        return bits;
    }

    private static int ntValue(String v, String whole) throws FormatException {
        switch (v) {
            case "ordinary": return 0;
            case "counter": return 1;
            case "bits": return 2;
            case "extend": return 4;
            case "pinfail": return 8;
            case "pinpass": return 9;
            default:
                try {
                    int n = Integer.parseInt(v);
                    if (n >= 0 && n <= 15) {
                        return n;
                    }
                } catch (NumberFormatException e) {
                    // fall through
                }
                throw new FormatException("TPMA_NV", whole, "unknown NV type " + v);
        }
    }

    /**
     * The public area from what {@code tpm2_nvreadpublic} prints (YAML: the index, {@code hash
     * algorithm}, {@code attributes} value, {@code size}, {@code authorization policy}). When the
     * printout names more than one index, {@code wanted} picks one (or null for the only one).
     */
    public static TpmsNvPublic parseNvReadPublic(byte[] yaml, Integer wanted) throws FormatException {
        String text = new String(yaml, StandardCharsets.UTF_8);
        Integer index = null;
        Integer attributes = null;
        Integer size = null;
        Integer alg = null;
        byte[] policy = new byte[0];
        String section = "";
        boolean found = false;
        for (String raw : text.split("\n", -1)) {
            String line = raw.stripTrailing();
            if (line.isEmpty()) {
                continue;
            }
            if (!Character.isWhitespace(line.charAt(0))) {
                if (found) {
                    break; // the next index
                }
                String h = line.endsWith(":") ? line.substring(0, line.length() - 1).trim() : line.trim();
                int i = parseIndex(h);
                if (wanted == null || wanted == i) {
                    if (index != null && wanted == null) {
                        throw new FormatException("tpm2_nvreadpublic output", h, "names several NV indexes: give --nv-index");
                    }
                    index = i;
                    found = wanted != null;
                }
                continue;
            }
            if (index == null) {
                continue;
            }
            String l = line.trim();
            int colon = l.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = l.substring(0, colon).trim();
            String val = l.substring(colon + 1).trim();
            int depth = line.length() - line.stripLeading().length();
            if (depth <= 2) {
                section = key;
                if (key.equals("size")) {
                    size = parseNumber(val, "size");
                } else if (key.equals("authorization policy") && !val.isEmpty()) {
                    try {
                        policy = HexFormat.of().parseHex(val);
                    } catch (IllegalArgumentException e) {
                        throw new FormatException("authorization policy", val, "not hex");
                    }
                }
            } else if (key.equals("value")) {
                if (section.equals("attributes")) {
                    attributes = parseNumber(val, "attributes");
                } else if (section.equals("hash algorithm")) {
                    alg = parseNumber(val, "hash algorithm");
                }
            }
        }
        if (index == null) {
            throw new FormatException("tpm2_nvreadpublic output", wanted == null ? null : String.format(Locale.ROOT, "0x%x", wanted),
                    "no NV index found (expected what `tpm2_nvreadpublic INDEX` prints)");
        }
        if (attributes == null || size == null || alg == null) {
            throw new FormatException("tpm2_nvreadpublic output", String.format(Locale.ROOT, "0x%x", index),
                    "lacks the hash algorithm, attributes or size");
        }
        if (alg != NAME_ALG_SHA256) {
            throw new FormatException("hash algorithm", alg, "only SHA-256 NV names are supported");
        }
        return new TpmsNvPublic(index, attributes, policy, size);
    }

    /** An NV index handle: {@code 0x1500020} or decimal. */
    public static int parseIndex(String s) throws FormatException {
        int v = parseNumber(s.trim(), "NV index");
        if ((v >>> 24) != 0x01) {
            throw new FormatException("NV index", s, "not an NV index handle (0x01xxxxxx)");
        }
        return v;
    }

    private static int parseNumber(String s, String field) throws FormatException {
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                return Integer.parseUnsignedInt(s.substring(2), 16);
            }
            return Integer.parseUnsignedInt(s);
        } catch (NumberFormatException e) {
            throw new FormatException(field, s, "not a number");
        }
    }
}
