package dev.cairn.signing.pcr;

/**
 * A TPM PCR bank, with its TPM_ALG_ID (TPM 2.0 Library Part 2 §6.3 / TCG Algorithm Registry)
 * written out, its name as systemd spells it in JSON, and its JCA digest.
 */
public enum PcrBank {
    SHA1(0x0004, "sha1", "SHA-1", 20),
    SHA256(0x000B, "sha256", "SHA-256", 32),
    SHA384(0x000C, "sha384", "SHA-384", 48),
    SHA512(0x000D, "sha512", "SHA-512", 64);

    private final int algorithmId;
    private final String jsonName;
    private final String jcaName;
    private final int digestLength;

    PcrBank(int algorithmId, String jsonName, String jcaName, int digestLength) {
        this.algorithmId = algorithmId;
        this.jsonName = jsonName;
        this.jcaName = jcaName;
        this.digestLength = digestLength;
    }

    /** TPM_ALG_ID of the bank's hash. */
    public int algorithmId() {
        return algorithmId;
    }

    /** {@code sha1}, {@code sha256}, …: the key in systemd's JSON and the {@code --bank=} value. */
    public String jsonName() {
        return jsonName;
    }

    public String jcaName() {
        return jcaName;
    }

    /** Length of a PCR value in this bank. */
    public int digestLength() {
        return digestLength;
    }

    /** By systemd name ({@code sha256}); API misuse otherwise. */
    public static PcrBank of(String name) {
        for (PcrBank b : values()) {
            if (b.jsonName.equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown PCR bank " + name + " (sha1, sha256, sha384, sha512)");
    }

    /** By systemd name, as read from a file: an unknown name is bad input. */
    static PcrBank parse(String name) throws dev.cairn.io.FormatException {
        for (PcrBank b : values()) {
            if (b.jsonName.equals(name)) {
                return b;
            }
        }
        throw new dev.cairn.io.FormatException("bank", name, "unknown PCR bank");
    }
}
