package dev.cairn.uki.initrd;

/**
 * What {@link InitrdWriter#finish()} wrote.
 *
 * @param entries    archive entries (without the trailer); each hard link counts
 * @param cpioBytes  size of the uncompressed cpio archive, trailer and padding included
 * @param size       bytes written to the output (after compression)
 * @param sha256     SHA-256 of the bytes written to the output
 */
public record InitrdResult(long entries, long cpioBytes, long size, byte[] sha256) {
    public InitrdResult {
        sha256 = sha256.clone();
    }

    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    /** SHA-256 in lower-case hex. */
    public String sha256Hex() {
        return java.util.HexFormat.of().formatHex(sha256);
    }
}
