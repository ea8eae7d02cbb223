package dev.cairn.verity;

import java.security.DigestException;
import java.security.MessageDigest;

/**
 * Hashes one block the way dm-verity does: {@code H(salt ‖ block)} for hash type 1,
 * {@code H(block ‖ salt)} for type 0. One instance per thread; not thread-safe.
 */
final class BlockHasher {
    private final MessageDigest md;
    private final byte[] salt;
    private final boolean saltFirst;
    private final int digestSize;

    /** {@code bytesToHash}: about how much this hasher will hash in all (it chooses the digest implementation). */
    BlockHasher(HashAlgorithm alg, byte[] salt, int hashType, long bytesToHash) {
        this.md = alg.newDigest(bytesToHash);
        this.salt = salt.clone();
        this.saltFirst = hashType == 1;
        this.digestSize = alg.digestSize();
    }

    /** Hashes {@code len} bytes of {@code block} at {@code off} into {@code out} at {@code outOff}. */
    void hash(byte[] block, int off, int len, byte[] out, int outOff) {
        if (saltFirst) {
            md.update(salt);
            md.update(block, off, len);
        } else {
            md.update(block, off, len);
            md.update(salt);
        }
        try {
            md.digest(out, outOff, digestSize);
        } catch (DigestException e) {
            throw new IllegalStateException(e);
        }
    }

    byte[] hash(byte[] block, int off, int len) {
        byte[] out = new byte[digestSize];
        hash(block, off, len, out, 0);
        return out;
    }
}
