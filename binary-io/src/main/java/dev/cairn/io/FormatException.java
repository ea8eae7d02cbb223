package dev.cairn.io;

import java.io.IOException;

/**
 * Input that does not follow its format: a bad magic, an offset past the end, an absurd size.
 *
 * <p>Carries where the problem is ({@link #offset()}, or -1 when not tied to a position), which
 * field it is in, and the offending value, so the command line can print one precise line.
 */
public class FormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long offset;
    private final String field;
    private final String value;

    public FormatException(long offset, String field, Object value, String message) {
        super(compose(offset, field, value, message));
        this.offset = offset;
        this.field = field;
        this.value = value == null ? null : String.valueOf(value);
    }

    public FormatException(String field, Object value, String message) {
        this(-1, field, value, message);
    }

    public FormatException(String message) {
        this(-1, null, null, message);
    }

    public FormatException(String message, Throwable cause) {
        super(compose(-1, null, null, message), cause);
        this.offset = -1;
        this.field = null;
        this.value = null;
    }

    private static String compose(long offset, String field, Object value, String message) {
        StringBuilder sb = new StringBuilder(message);
        if (field != null || offset >= 0) {
            sb.append(" (");
            if (field != null) {
                sb.append(field);
                if (value != null) {
                    sb.append('=').append(value);
                }
            }
            if (offset >= 0) {
                if (field != null) {
                    sb.append(", ");
                }
                sb.append("at offset ").append(offset);
            }
            sb.append(')');
        }
        return sb.toString();
    }

    /** Byte offset of the problem in its input, or -1. */
    public long offset() {
        return offset;
    }

    /** Name of the offending field, or null. */
    public String field() {
        return field;
    }

    /** Offending value as text, or null. */
    public String value() {
        return value;
    }
}
