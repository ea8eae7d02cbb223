package dev.cairn.io;

/** Input that is valid for its format but uses something cairn does not implement. */
public class UnsupportedFeatureException extends FormatException {
    private static final long serialVersionUID = 1L;

    public UnsupportedFeatureException(String field, Object value, String message) {
        super(field, value, message);
    }

    public UnsupportedFeatureException(String message) {
        super(message);
    }
}
