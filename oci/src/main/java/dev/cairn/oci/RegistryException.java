package dev.cairn.oci;

import java.io.IOException;

/** A registry refused a request or could not be reached; {@code status} is the HTTP status or -1. */
public class RegistryException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    public RegistryException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = -1;
        this.code = null;
    }

    public int status() {
        return status;
    }

    /** The distribution-spec error code ({@code DIGEST_INVALID}, …) or null. */
    public String code() {
        return code;
    }
}
