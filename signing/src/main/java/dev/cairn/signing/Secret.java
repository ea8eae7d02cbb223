package dev.cairn.signing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * A passphrase or PIN, read from an environment variable, a file or standard input, never from
 * the command line. {@link #toString()} never reveals it. One trailing newline is dropped (as
 * {@code echo pin > file} writes one).
 */
public final class Secret {
    private final char[] value;
    private final String origin;

    private Secret(char[] value, String origin) {
        this.value = value;
        this.origin = origin;
    }

    public static Secret ofEnvironment(String variable, Map<String, String> env) throws SigningException {
        String v = env.get(variable);
        if (v == null) {
            throw new SigningException("environment variable " + variable + " is not set");
        }
        return new Secret(v.toCharArray(), "environment variable " + variable);
    }

    public static Secret ofFile(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        try {
            return new Secret(chomp(new String(b, StandardCharsets.UTF_8)).toCharArray(), "file " + file);
        } finally {
            Arrays.fill(b, (byte) 0);
        }
    }

    /** Longest line {@link #ofStream} reads: no passphrase is longer, and a wrong pipe must not fill the heap. */
    static final int MAX_LINE_BYTES = 64 * 1024;

    /** Reads one line of UTF-8 from {@code in} (standard input), as {@link #ofFile} reads a file. */
    public static Secret ofStream(InputStream in) throws IOException {
        byte[] b = new byte[256];
        int n = 0;
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (n == MAX_LINE_BYTES) {
                Arrays.fill(b, (byte) 0);
                throw new IOException("standard input: the first line is longer than " + MAX_LINE_BYTES + " bytes; expected a passphrase");
            }
            if (n == b.length) {
                byte[] bigger = Arrays.copyOf(b, Math.min(b.length * 2, MAX_LINE_BYTES));
                Arrays.fill(b, (byte) 0);
                b = bigger;
            }
            b[n++] = (byte) c;
        }
        try {
            int len = n > 0 && b[n - 1] == '\r' ? n - 1 : n; // a CRLF line, as ofFile accepts
            return new Secret(new String(b, 0, len, StandardCharsets.UTF_8).toCharArray(), "standard input");
        } finally {
            Arrays.fill(b, (byte) 0);
        }
    }

    private static String chomp(String s) {
        if (s.endsWith("\r\n")) {
            return s.substring(0, s.length() - 2);
        }
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    /** The secret itself; callers should not keep it longer than needed. */
    public char[] chars() {
        return value.clone();
    }

    /** Where it came from, for messages (never the value). */
    public String origin() {
        return origin;
    }

    @Override
    public String toString() {
        return "Secret[from " + origin + "]";
    }
}
