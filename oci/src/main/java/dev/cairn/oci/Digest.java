package dev.cairn.oci;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.cairn.io.FormatException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A content digest {@code algorithm:hex} (image-spec {@code descriptor.md} "Digests"). Only
 * {@code sha256} and {@code sha512} are accepted, with lowercase hex of the exact length; anything
 * else is refused rather than guessed at.
 */
public record Digest(String algorithm, String hex) {
    public Digest {
        int len = switch (algorithm) {
            case "sha256" -> 64;
            case "sha512" -> 128;
            default -> throw new IllegalArgumentException("unsupported digest algorithm '" + algorithm + "'");
        };
        if (hex.length() != len || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw new IllegalArgumentException("digest " + algorithm + ":" + hex + " must have " + len + " lowercase hex digits");
        }
    }

    /** Parses {@code sha256:<64 hex>}; a malformed value is a {@link FormatException} naming {@code field}. */
    public static Digest parse(String field, String s) throws FormatException {
        if (s == null) {
            throw new FormatException(field, null, "digest is missing");
        }
        int colon = s.indexOf(':');
        if (colon <= 0) {
            throw new FormatException(field, s, "not a digest (expected sha256:<hex>)");
        }
        try {
            return new Digest(s.substring(0, colon), s.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new FormatException(field, s, e.getMessage());
        }
    }

    @JsonCreator
    static Digest fromJson(String s) throws FormatException {
        return parse("digest", s);
    }

    /** Like {@link #parse(String, String)} for values the caller already validated (API misuse throws). */
    public static Digest of(String s) {
        try {
            return parse("digest", s);
        } catch (FormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    public static Digest sha256(byte[] hash) {
        if (hash.length != 32) {
            throw new IllegalArgumentException("a sha256 hash has 32 bytes, not " + hash.length);
        }
        return new Digest("sha256", HexFormat.of().formatHex(hash));
    }

    /** The sha256 digest of {@code bytes}. */
    public static Digest ofBytes(byte[] bytes) {
        return sha256(newSha256().digest(bytes));
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** A fresh hasher for this digest's algorithm. */
    public MessageDigest newHasher() {
        try {
            return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm, e);
        }
    }

    /** Whether {@code hash} (the raw output of {@link #newHasher()}) is this digest. */
    public boolean matches(byte[] hash) {
        return HexFormat.of().formatHex(hash).equals(hex);
    }

    /** The tag the referrers fallback schema uses: {@code sha256-<hex>} (distribution-spec 1.1, truncated to 128). */
    public String fallbackTag() {
        String t = algorithm + "-" + hex;
        return t.length() > 128 ? t.substring(0, 128) : t;
    }

    @JsonValue
    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
