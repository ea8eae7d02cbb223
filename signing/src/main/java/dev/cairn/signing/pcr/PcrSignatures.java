package dev.cairn.signing.pcr;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.io.StringWriter;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The signed PCR policy JSON systemd-measure {@code sign} prints and a UKI carries as
 * {@code .pcrsig}: one array per bank, banks in the order given, entries in phase order.
 *
 * @param banks the banks, each once
 */
public record PcrSignatures(List<Bank> banks) {
    /** Larger than any real .pcrsig (a few KiB). */
    public static final int MAX_JSON_CHARS = 1 << 20;

    /** One bank's entries. */
    public record Bank(PcrBank bank, List<PcrPolicySignature> entries) {
        public Bank {
            Objects.requireNonNull(bank, "bank");
            entries = List.copyOf(entries);
        }
    }

    public PcrSignatures {
        banks = List.copyOf(banks);
        for (int i = 0; i < banks.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (banks.get(i).bank() == banks.get(j).bank()) {
                    throw new IllegalArgumentException("bank " + banks.get(i).bank().jsonName() + " listed twice");
                }
            }
        }
    }

    /**
     * Compact JSON, key order and formatting as systemd-measure 252 prints it
     * ({@code {"sha256":[{"pcrs":[11],"pkfp":"…","pol":"…","sig":"…"}]}}), without the newline
     * systemd-measure appends when printing to standard output.
     */
    public String toJson() {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(w)) {
            g.writeStartObject();
            for (Bank b : banks) {
                g.writeArrayFieldStart(b.bank().jsonName());
                for (PcrPolicySignature e : b.entries()) {
                    g.writeStartObject();
                    g.writeArrayFieldStart("pcrs");
                    for (int pcr : e.pcrs()) {
                        g.writeNumber(pcr);
                    }
                    g.writeEndArray();
                    g.writeStringField("pkfp", HexFormat.of().formatHex(e.fingerprint()));
                    g.writeStringField("pol", HexFormat.of().formatHex(e.policy()));
                    g.writeStringField("sig", Base64.getEncoder().encodeToString(e.signature()));
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("JSON to a string cannot fail", e);
        }
        return w.toString();
    }

    /** The entries of one bank (empty when absent). */
    public List<PcrPolicySignature> entries(PcrBank bank) {
        for (Bank b : banks) {
            if (b.bank() == bank) {
                return b.entries();
            }
        }
        return List.of();
    }

    /**
     * Reads systemd's JSON (from systemd-measure or a UKI's {@code .pcrsig}; a trailing NUL is
     * tolerated). Unknown keys inside an entry ({@code ref}, {@code tbs} of newer systemd) are ignored.
     */
    public static PcrSignatures parse(String json) throws FormatException {
        if (json.length() > MAX_JSON_CHARS) {
            throw new FormatException("pcrsig", json.length() + " characters", "larger than any PCR signature file");
        }
        String text = json.endsWith("\0") ? json.substring(0, json.length() - 1) : json;
        JsonNode root;
        try {
            JsonFactory f = JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build()).build();
            root = new ObjectMapper(f).readTree(text);
        } catch (JsonProcessingException e) {
            throw new FormatException("not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new FormatException("pcrsig", null, "not a JSON object");
        }
        List<Bank> banks = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> f = it.next();
            PcrBank bank = PcrBank.parse(f.getKey());
            if (!f.getValue().isArray()) {
                throw new FormatException(bank.jsonName(), null, "not an array");
            }
            List<PcrPolicySignature> entries = new ArrayList<>();
            for (JsonNode e : f.getValue()) {
                if (!e.isObject()) {
                    throw new FormatException(bank.jsonName() + "[]", null, "not an object");
                }
                List<Integer> pcrs = new ArrayList<>();
                JsonNode pn = e.get("pcrs");
                if (pn == null || !pn.isArray()) {
                    throw new FormatException(bank.jsonName() + "[].pcrs", null, "missing or not an array");
                }
                for (JsonNode p : pn) {
                    if (!p.isInt() || p.intValue() < 0 || p.intValue() > 23) {
                        throw new FormatException(bank.jsonName() + "[].pcrs", p, "not a PCR number 0..23");
                    }
                    pcrs.add(p.intValue());
                }
                entries.add(new PcrPolicySignature(pcrs, hex(e, "pkfp", bank), hex(e, "pol", bank), base64(e, "sig", bank)));
            }
            banks.add(new Bank(bank, entries));
        }
        try {
            return new PcrSignatures(banks);
        } catch (IllegalArgumentException e) {
            throw new FormatException("pcrsig", null, e.getMessage());
        }
    }

    private static String text(JsonNode e, String key, PcrBank bank) throws FormatException {
        JsonNode n = e.get(key);
        if (n == null || !n.isTextual()) {
            throw new FormatException(bank.jsonName() + "[]." + key, null, "missing or not a string");
        }
        return n.textValue();
    }

    private static byte[] hex(JsonNode e, String key, PcrBank bank) throws FormatException {
        String s = text(e, key, bank);
        try {
            return HexFormat.of().parseHex(s);
        } catch (IllegalArgumentException x) {
            throw new FormatException(bank.jsonName() + "[]." + key, null, "not hexadecimal");
        }
    }

    private static byte[] base64(JsonNode e, String key, PcrBank bank) throws FormatException {
        String s = text(e, key, bank);
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException x) {
            throw new FormatException(bank.jsonName() + "[]." + key, null, "not base64");
        }
    }

    /**
     * True when every entry's {@code sig} is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of its
     * {@code pol} by {@code key} and its {@code pkfp} names that key: what the TPM's
     * {@code TPM2_VerifySignature} + {@code PolicyAuthorize} will accept.
     */
    public boolean verifiesWith(RSAPublicKey key) {
        byte[] fp = PcrSigningKey.fingerprint(key);
        for (Bank b : banks) {
            for (PcrPolicySignature e : b.entries()) {
                if (!java.util.Arrays.equals(fp, e.fingerprint())) {
                    return false;
                }
                try {
                    Signature v = Signature.getInstance("SHA256withRSA");
                    v.initVerify(key);
                    v.update(e.policy());
                    if (!v.verify(e.signature())) {
                        return false;
                    }
                } catch (java.security.SignatureException x) {
                    return false;
                } catch (GeneralSecurityException x) {
                    throw new IllegalStateException("SHA256withRSA unavailable", x);
                }
            }
        }
        return true;
    }
}
