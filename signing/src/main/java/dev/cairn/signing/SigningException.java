package dev.cairn.signing;

import java.io.IOException;

/**
 * A key or signing problem: unreadable or encrypted key without passphrase, key/certificate
 * mismatch, a token that refuses to sign. Messages never contain secrets. (Exit code 4 in the CLI.)
 */
public class SigningException extends IOException {
    private static final long serialVersionUID = 1L;

    public SigningException(String message) {
        super(message);
    }

    public SigningException(String message, Throwable cause) {
        super(message, cause);
    }
}
