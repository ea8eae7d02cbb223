package dev.cairn.cli.oci;

import picocli.CommandLine;

/** The signature formats of {@code cairn oci sign|verify --format}. */
enum SignatureFormat {
    /** cosign's tag-based simple-signing signature at {@code sha256-<hex>.sig}. */
    COSIGN("cosign"),
    /** Notary Project JWS envelope as an OCI 1.1 referrer. */
    NOTATION("notation"),
    /** Sigstore bundle v0.3 (message signature) as an OCI 1.1 referrer. */
    SIGSTORE_BUNDLE("sigstore-bundle"),
    /** Per-layer PKCS#7 signatures of the node's dm-verity root hashes (Notary Project dm-verity proposal), as a referrer. */
    DM_VERITY("dm-verity");

    final String flag;

    SignatureFormat(String flag) {
        this.flag = flag;
    }

    /** Parses {@code cosign}, {@code notation}, {@code sigstore-bundle} or {@code dm-verity}. */
    static final class Converter implements CommandLine.ITypeConverter<SignatureFormat> {
        @Override
        public SignatureFormat convert(String value) {
            for (SignatureFormat f : values()) {
                if (f.flag.equals(value)) {
                    return f;
                }
            }
            throw new CommandLine.TypeConversionException("unknown signature format '" + value
                    + "' (use cosign, notation, sigstore-bundle or dm-verity)");
        }
    }

    @Override
    public String toString() {
        return flag;
    }
}
