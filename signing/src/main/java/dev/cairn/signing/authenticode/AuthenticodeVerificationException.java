package dev.cairn.signing.authenticode;

import dev.cairn.signing.SigningException;

/** An Authenticode signature that is well-formed but fails one named check. */
public final class AuthenticodeVerificationException extends SigningException {
    private static final long serialVersionUID = 1L;

    /** The checks of {@link AuthenticodeVerifier#verify}, in the order they run. */
    public enum Check {
        /** The contentType attribute names SPC_INDIRECT_DATA and the digest algorithms agree. */
        ATTRIBUTES,
        /** The messageDigest attribute equals the digest of the SpcIndirectDataContent. */
        MESSAGE_DIGEST,
        /** The signer's certificate is embedded or among the trusted ones. */
        SIGNER_CERTIFICATE,
        /** The RSA signature over the signed attributes verifies with the signer's key. */
        SIGNATURE,
        /** The signer is, or chains to, a trusted certificate. */
        TRUST,
        /** The signed image digest is the expected one. */
        IMAGE_DIGEST
    }

    private final Check check;

    public AuthenticodeVerificationException(Check check, String message) {
        super("Authenticode check " + check + " failed: " + message);
        this.check = check;
    }

    public Check check() {
        return check;
    }
}
