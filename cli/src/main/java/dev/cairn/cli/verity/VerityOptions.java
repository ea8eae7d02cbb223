package dev.cairn.cli.verity;

import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import dev.cairn.verity.FecParams;
import dev.cairn.verity.HashAlgorithm;
import dev.cairn.verity.VerityParams;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.UUID;
import picocli.CommandLine.Option;

/** The tree options shared by {@code cairn verity} subcommands, named as veritysetup names them. */
public final class VerityOptions {
    @Option(names = "--hash", paramLabel = "ALG", description = "Hash algorithm: sha1, sha256, sha512 (default sha256).")
    String hash;

    @Option(names = "--data-block-size", paramLabel = "BYTES", description = "Data block size (default 4096).")
    Integer dataBlockSize;

    @Option(names = "--hash-block-size", paramLabel = "BYTES", description = "Hash block size (default 4096).")
    Integer hashBlockSize;

    @Option(names = "--salt", paramLabel = "HEX", description = "Salt as hex, or - for none (default: 32 random bytes).")
    String salt;

    @Option(names = "--uuid", paramLabel = "UUID", description = "Superblock UUID (default: random).")
    String uuid;

    @Option(names = "--seed", paramLabel = "TEXT",
            description = "Derive salt and UUID from TEXT, for reproducible trees (--salt/--uuid win).")
    String seed;

    @Option(names = "--no-superblock", description = "Do not use a superblock (all parameters must be repeated later).")
    boolean noSuperblock;

    @Option(names = "--format", paramLabel = "0|1", description = "Hash type: 1 normal (default), 0 Chrome OS.")
    Integer format;

    @Option(names = "--hash-offset", paramLabel = "BYTES", description = "Start of the superblock/tree in the hash file (default 0).")
    Long hashOffset;

    @Option(names = "--data-blocks", paramLabel = "N", description = "Number of data blocks to cover (default: file size / block size).")
    Long dataBlocks;

    @Option(names = "--fec-device", paramLabel = "FILE", description = "File for Reed-Solomon parity (forward error correction).")
    Path fecDevice;

    @Option(names = "--fec-offset", paramLabel = "BYTES", description = "Offset of the parity in the FEC file (default 0).")
    Long fecOffset;

    @Option(names = "--fec-roots", paramLabel = "N", description = "Parity bytes per codeword, 2..24 (default 2).")
    Integer fecRoots;

    static final String SALT_LABEL = "cairn verity salt\0";
    static final String UUID_LABEL = "cairn verity uuid\0";

    /** Parameters for {@code format}: defaults as veritysetup, random salt/UUID unless given or seeded. */
    VerityParams forFormat() throws FormatException {
        byte[] s = salt != null ? parseSalt(salt) : seed != null ? seeded(SALT_LABEL, seed) : random(32);
        UUID u = uuid != null ? parseUuid(uuid) : seed != null ? seededUuid(seed) : dev.cairn.io.Randomness.uuid();
        return build(s, u);
    }

    /** Parameters for {@code verify}/{@code table}: the salt must be given without a superblock. */
    VerityParams forVerify() throws FormatException {
        if (noSuperblock && salt == null) {
            throw new IllegalArgumentException("--no-superblock needs --salt (use --salt=- for none)");
        }
        byte[] s = salt == null ? new byte[0] : parseSalt(salt);
        UUID u = uuid == null ? new UUID(0, 0) : parseUuid(uuid);
        return build(s, u);
    }

    private VerityParams build(byte[] s, UUID u) throws FormatException {
        HashAlgorithm alg = hash == null ? HashAlgorithm.SHA256 : parseHash(hash);
        FecParams fec = null;
        if (fecDevice != null) {
            fec = new FecParams(fecDevice, fecOffset == null ? 0 : fecOffset, fecRoots == null ? 2 : fecRoots);
        } else if (fecOffset != null || fecRoots != null) {
            throw new IllegalArgumentException("--fec-offset and --fec-roots need --fec-device");
        }
        return new VerityParams(alg, format == null ? 1 : format, dataBlockSize == null ? 4096 : dataBlockSize,
                hashBlockSize == null ? 4096 : hashBlockSize, s, u, !noSuperblock, hashOffset == null ? 0 : hashOffset,
                dataBlocks == null ? -1 : dataBlocks, fec);
    }

    /** Explicit options that disagree with a superblock are an error, not silently ignored. */
    void checkAgainst(VerityParams fromSuperblock) throws FormatException {
        mismatch("--hash", hash == null ? null : parseHash(hash), fromSuperblock.hash());
        mismatch("--format", format, fromSuperblock.hashType());
        mismatch("--data-block-size", dataBlockSize, fromSuperblock.dataBlockSize());
        mismatch("--hash-block-size", hashBlockSize, fromSuperblock.hashBlockSize());
        mismatch("--data-blocks", dataBlocks, fromSuperblock.dataBlocks());
        if (salt != null && !Arrays.equals(parseSalt(salt), fromSuperblock.salt())) {
            throw new FormatException("--salt", salt, "the superblock has a different salt");
        }
        mismatch("--uuid", uuid == null ? null : parseUuid(uuid), fromSuperblock.uuid());
    }

    private static void mismatch(String option, Object given, Object actual) throws FormatException {
        if (given != null && !given.equals(actual)) {
            throw new FormatException(option, given, "the superblock says " + actual);
        }
    }

    static HashAlgorithm parseHash(String s) throws UnsupportedFeatureException {
        return HashAlgorithm.byName(s);
    }

    static byte[] parseSalt(String s) throws FormatException {
        if (s.equals("-")) {
            return new byte[0];
        }
        byte[] b = parseHex("--salt", s);
        if (b.length > VerityParams.MAX_SALT_SIZE) {
            throw new FormatException("--salt", b.length + " bytes", "salt is longer than 256 bytes");
        }
        return b;
    }

    static byte[] parseHex(String what, String s) throws FormatException {
        if (s.length() % 2 != 0) {
            throw new FormatException(what, s, "hex value has an odd number of digits");
        }
        try {
            return HexFormat.of().parseHex(s);
        } catch (IllegalArgumentException e) {
            throw new FormatException(what, s, "not a hex value");
        }
    }

    static UUID parseUuid(String s) throws FormatException {
        if (!s.matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")) {
            throw new FormatException("--uuid", s, "not a UUID");
        }
        return UUID.fromString(s);
    }

    /** SHA-256(label ‖ seed): 32 bytes. */
    static byte[] seeded(String label, String seed) {
        MessageDigest md = new dev.cairn.io.Sha256();
        md.update(label.getBytes(StandardCharsets.UTF_8));
        return md.digest(seed.getBytes(StandardCharsets.UTF_8));
    }

    /** First 16 bytes of SHA-256("cairn verity uuid\0" ‖ seed) with RFC 4122 version 4 / variant bits. */
    static UUID seededUuid(String seed) {
        return dev.cairn.io.Randomness.version4(seeded(UUID_LABEL, seed));
    }

    private static byte[] random(int n) {
        return dev.cairn.io.Randomness.bytes(n);
    }
}
