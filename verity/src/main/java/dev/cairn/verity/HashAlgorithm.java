package dev.cairn.verity;

import dev.cairn.io.Sha256;
import dev.cairn.io.UnsupportedFeatureException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/** Hash algorithms of a verity tree, named as veritysetup names them. */
public enum HashAlgorithm {
    SHA1("sha1", "SHA-1", 20),
    SHA256("sha256", "SHA-256", 32),
    SHA512("sha512", "SHA-512", 64);

    private final String veritysetupName;
    private final String jcaName;
    private final int digestSize;

    HashAlgorithm(String veritysetupName, String jcaName, int digestSize) {
        this.veritysetupName = veritysetupName;
        this.jcaName = jcaName;
        this.digestSize = digestSize;
    }

    /** Lower-case name, as written in the superblock and the kernel table ("sha256"). */
    public String veritysetupName() {
        return veritysetupName;
    }

    public String jcaName() {
        return jcaName;
    }

    public int digestSize() {
        return digestSize;
    }

    /**
     * A fresh digest instance for about {@code bytesToHash} bytes: SHA-256 of a small input is
     * hashed without the JCA ({@link Sha256#forSize}), which a short command would spend more
     * time setting up than hashing.
     */
    public MessageDigest newDigest(long bytesToHash) {
        return this == SHA256 ? Sha256.forSize(bytesToHash) : newDigest();
    }

    /** A fresh digest instance. */
    public MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(jcaName);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK lacks " + jcaName, e);
        }
    }

    /** Case-insensitive lookup by veritysetup name. */
    public static HashAlgorithm byName(String name) throws UnsupportedFeatureException {
        String n = name.toLowerCase(Locale.ROOT);
        for (HashAlgorithm a : values()) {
            if (a.veritysetupName.equals(n)) {
                return a;
            }
        }
        throw new UnsupportedFeatureException("hash", name, "unsupported hash algorithm (use sha1, sha256 or sha512)");
    }
}
