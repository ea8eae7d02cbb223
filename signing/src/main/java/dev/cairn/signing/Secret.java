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

    /** Reads one line from {@code in} (standard input). */
    public static Secret ofStream(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            sb.append((char) c);
        }
        return new Secret(chomp(sb.toString()).toCharArray(), "standard input");
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
