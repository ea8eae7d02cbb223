package dev.cairn.uki;

import dev.cairn.io.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Predicts PCR 11 after a systemd stub measured a UKI, as {@code systemd-measure calculate} does:
 * starting from zero, for each measured section present and non-empty, in rule order,
 * {@code pcr = H(pcr ‖ H(name ‖ NUL))} then {@code pcr = H(pcr ‖ H(content))}; then for each
 * word of a boot phase path, {@code pcr = H(pcr ‖ H(word))} (no NUL).
 */
public final class PcrPredictor {
    /** systemd-measure's default phase paths. */
    public static final List<String> DEFAULT_PHASES = List.of("enter-initrd", "enter-initrd:leave-initrd",
            "enter-initrd:leave-initrd:sysinit", "enter-initrd:leave-initrd:sysinit:ready");
    public static final List<String> KNOWN_PHASE_WORDS = List.of("enter-initrd", "leave-initrd", "sysinit", "ready", "shutdown", "final");

    private PcrPredictor() {
    }

    /** A PCR bank: its systemd name, JCA digest and TPM2 algorithm id. */
    public enum Bank {
        SHA1("sha1", "SHA-1", 0x0004), SHA256("sha256", "SHA-256", 0x000B), SHA384("sha384", "SHA-384", 0x000C),
        SHA512("sha512", "SHA-512", 0x000D);

        private final String id;
        private final String jca;
        private final int tpmAlg;

        Bank(String id, String jca, int tpmAlg) {
            this.id = id;
            this.jca = jca;
            this.tpmAlg = tpmAlg;
        }

        public String id() {
            return id;
        }

        public String jcaName() {
            return jca;
        }

        public int tpmAlgorithm() {
            return tpmAlg;
        }

        /**
         * A digest for about {@code bytes} bytes: SHA-256 of a small section without the JCA
         * ({@link Sha256#forSize}: {@code uki inspect} of a small image sets up no provider).
         */
        public MessageDigest newDigest(long bytes) {
            return this == SHA256 ? Sha256.forSize(bytes) : newDigest();
        }

        public MessageDigest newDigest() {
            try {
                return MessageDigest.getInstance(jca);
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        public static Bank parse(String s) {
            for (Bank b : values()) {
                if (b.id.equalsIgnoreCase(s) || b.jca.equalsIgnoreCase(s)) {
                    return b;
                }
            }
            throw new IllegalArgumentException("unknown PCR bank " + s + " (use sha1, sha256, sha384 or sha512)");
        }
    }

    /** One predicted value. */
    public record Prediction(Bank bank, String phase, byte[] value) {
        public String hex() {
            return java.util.HexFormat.of().formatHex(value);
        }
    }

    /** Digests of one section's content, one per bank. */
    public record SectionDigests(String name, long size, Map<Bank, byte[]> digests) {
    }

    /** Hashes a section's content with every bank's algorithm in one pass. */
    public static SectionDigests digest(String name, SectionData data, List<Bank> banks) throws java.io.IOException {
        return digest(name, data, banks, null);
    }

    /**
     * Like {@link #digest(String, SectionData, List)}; {@code read} (nullable) hears of the bytes as they are
     * hashed (a progress display). An anonymous class and loops, not lambdas: {@code uki inspect} and
     * {@code uki measure} run this once per fresh JVM, where each lambda costs some 0.6 ms to link.
     */
    public static SectionDigests digest(String name, SectionData data, List<Bank> banks, java.util.function.LongConsumer read)
            throws java.io.IOException {
        MessageDigest[] mds = new MessageDigest[banks.size()];
        for (int i = 0; i < mds.length; i++) {
            mds[i] = banks.get(i).newDigest(data.size());
        }
        data.writeTo(new SectionData.Sink() {
            @Override
            public void accept(byte[] b, int off, int len) {
                for (MessageDigest m : mds) {
                    m.update(b, off, len);
                }
                if (read != null) {
                    read.accept(len);
                }
            }
        });
        Map<Bank, byte[]> out = new LinkedHashMap<>();
        for (int i = 0; i < mds.length; i++) {
            out.put(banks.get(i), mds[i].digest());
        }
        return new SectionDigests(name, data.size(), out);
    }

    /** Checks a phase path: colon-separated words; empty words are ignored, ":" means none. */
    public static List<String> phaseWords(String path) {
        List<String> words = new ArrayList<>();
        for (String w : path.split(":", -1)) {
            if (!w.isEmpty()) {
                if (!w.matches("[A-Za-z0-9_.-]+")) {
                    throw new IllegalArgumentException("invalid boot phase word '" + w + "' in " + path);
                }
                words.add(w);
            }
        }
        return words;
    }

    /**
     * Predictions for each phase path (outer) and bank (inner), given the digests of the sections
     * present. Sections the rule does not measure, and empty ones, are ignored; the first digest of
     * a name wins.
     */
    public static List<Prediction> predict(MeasurementRule rule, List<SectionDigests> sections, List<Bank> banks, List<String> phases) {
        Map<String, SectionDigests> byName = new LinkedHashMap<>();
        for (SectionDigests s : sections) {
            byName.putIfAbsent(s.name(), s);
        }
        List<Prediction> out = new ArrayList<>();
        for (String phase : phases) {
            List<String> words = phaseWords(phase);
            for (Bank bank : banks) {
                MessageDigest md = bank.newDigest();
                byte[] pcr = new byte[md.getDigestLength()];
                for (String name : rule.sections()) {
                    SectionDigests s = byName.get(name);
                    if (s == null || s.size() == 0) {
                        continue;
                    }
                    byte[] nameZ = (name + "\0").getBytes(StandardCharsets.US_ASCII);
                    pcr = extend(md, pcr, md.digest(nameZ));
                    pcr = extend(md, pcr, s.digests().get(bank));
                }
                for (String w : words) {
                    pcr = extend(md, pcr, md.digest(w.getBytes(StandardCharsets.US_ASCII)));
                }
                out.add(new Prediction(bank, phase, pcr));
            }
        }
        return out;
    }

    private static byte[] extend(MessageDigest md, byte[] pcr, byte[] event) {
        md.update(pcr);
        md.update(event);
        return md.digest();
    }
}
