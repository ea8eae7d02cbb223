package dev.cairn.verity;

import dev.cairn.io.Align;
import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * The 512-byte dm-verity superblock as cryptsetup writes it ({@code struct verity_sb} in
 * cryptsetup's {@code lib/verity/verity.c}). All integers little-endian.
 *
 * <pre>
 * 0x000  8   signature        "verity\0\0"
 * 0x008  4   version          1
 * 0x00C  4   hash_type        0 = Chrome OS, 1 = normal
 * 0x010  16  uuid             binary, RFC 4122 byte order
 * 0x020  32  algorithm        lower-case, NUL-terminated
 * 0x040  4   data_block_size
 * 0x044  4   hash_block_size
 * 0x048  8   data_blocks
 * 0x050  2   salt_size        at most 256
 * 0x052  6   _pad1
 * 0x058  256 salt
 * 0x158  168 _pad2
 * </pre>
 */
public record VeritySuperblock(int version, int hashType, UUID uuid, String algorithm,
                               int dataBlockSize, int hashBlockSize, long dataBlocks, byte[] salt) {
    public static final int SIZE = 512;
    static final byte[] SIGNATURE = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};
    static final int OFF_SIGNATURE = 0x000;
    static final int OFF_VERSION = 0x008;
    static final int OFF_HASH_TYPE = 0x00C;
    static final int OFF_UUID = 0x010;
    static final int OFF_ALGORITHM = 0x020;
    static final int ALGORITHM_FIELD = 32;
    static final int OFF_DATA_BLOCK_SIZE = 0x040;
    static final int OFF_HASH_BLOCK_SIZE = 0x044;
    static final int OFF_DATA_BLOCKS = 0x048;
    static final int OFF_SALT_SIZE = 0x050;
    static final int OFF_SALT = 0x058;

    public VeritySuperblock {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(algorithm, "algorithm");
        salt = salt.clone();
    }

    /** The superblock describing {@code p} with {@code dataBlocks} covered blocks. */
    public static VeritySuperblock of(VerityParams p, long dataBlocks) {
        return new VeritySuperblock(1, p.hashType(), p.uuid(), p.hash().veritysetupName(), p.dataBlockSize(),
                p.hashBlockSize(), dataBlocks, p.salt());
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    public byte[] encode() {
        byte[] b = new byte[SIZE];
        System.arraycopy(SIGNATURE, 0, b, OFF_SIGNATURE, SIGNATURE.length);
        LittleEndian.putU32(b, OFF_VERSION, version);
        LittleEndian.putU32(b, OFF_HASH_TYPE, hashType);
        ByteBuffer.wrap(b, OFF_UUID, 16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
        byte[] alg = algorithm.getBytes(StandardCharsets.US_ASCII);
        if (alg.length >= ALGORITHM_FIELD) {
            throw new IllegalArgumentException("algorithm name too long: " + algorithm);
        }
        System.arraycopy(alg, 0, b, OFF_ALGORITHM, alg.length);
        LittleEndian.putU32(b, OFF_DATA_BLOCK_SIZE, dataBlockSize);
        LittleEndian.putU32(b, OFF_HASH_BLOCK_SIZE, hashBlockSize);
        LittleEndian.putU64(b, OFF_DATA_BLOCKS, dataBlocks);
        LittleEndian.putU16(b, OFF_SALT_SIZE, salt.length);
        System.arraycopy(salt, 0, b, OFF_SALT, salt.length);
        return b;
    }

    /**
     * Strict decode of a superblock sector. {@code base} is the superblock's offset in its file,
     * used only to make messages point at the right byte.
     */
    public static VeritySuperblock decode(byte[] s, long base) throws FormatException {
        if (s.length < SIZE) {
            throw new FormatException(base, "superblock", s.length + " bytes", "verity superblock is truncated");
        }
        if (!Arrays.equals(s, OFF_SIGNATURE, OFF_SIGNATURE + 8, SIGNATURE, 0, 8)) {
            throw new FormatException(base + OFF_SIGNATURE, "signature", null, "no verity superblock (bad magic)");
        }
        long version = LittleEndian.u32(s, OFF_VERSION, "version");
        if (version != 1) {
            throw new FormatException(base + OFF_VERSION, "version", version, "unsupported verity superblock version");
        }
        long hashType = LittleEndian.u32(s, OFF_HASH_TYPE, "hash_type");
        if (hashType > 1) {
            throw new FormatException(base + OFF_HASH_TYPE, "hash_type", hashType, "unsupported verity hash type");
        }
        ByteBuffer ub = ByteBuffer.wrap(s, OFF_UUID, 16);
        UUID uuid = new UUID(ub.getLong(), ub.getLong());
        int nul = OFF_ALGORITHM;
        while (nul < OFF_ALGORITHM + ALGORITHM_FIELD && s[nul] != 0) {
            nul++;
        }
        if (nul == OFF_ALGORITHM + ALGORITHM_FIELD) {
            throw new FormatException(base + OFF_ALGORITHM, "algorithm", null, "hash algorithm name is not NUL-terminated");
        }
        String algorithm = new String(s, OFF_ALGORITHM, nul - OFF_ALGORITHM, StandardCharsets.US_ASCII);
        try {
            HashAlgorithm.byName(algorithm);
        } catch (UnsupportedFeatureException e) {
            throw new FormatException(base + OFF_ALGORITHM, "algorithm", printable(algorithm), "unsupported hash algorithm in superblock");
        }
        int dbs = blockSize(s, OFF_DATA_BLOCK_SIZE, "data_block_size", base);
        int hbs = blockSize(s, OFF_HASH_BLOCK_SIZE, "hash_block_size", base);
        long dataBlocks = LittleEndian.u64(s, OFF_DATA_BLOCKS, "data_blocks");
        if (dataBlocks <= 0 || dataBlocks > Long.MAX_VALUE / dbs) {
            throw new FormatException(base + OFF_DATA_BLOCKS, "data_blocks", Long.toUnsignedString(dataBlocks),
                    "absurd number of data blocks");
        }
        int saltSize = LittleEndian.u16(s, OFF_SALT_SIZE, "salt_size");
        if (saltSize > VerityParams.MAX_SALT_SIZE) {
            throw new FormatException(base + OFF_SALT_SIZE, "salt_size", saltSize, "salt larger than 256 bytes");
        }
        byte[] salt = Arrays.copyOfRange(s, OFF_SALT, OFF_SALT + saltSize);
        return new VeritySuperblock(1, (int) hashType, uuid, algorithm, dbs, hbs, dataBlocks, salt);
    }

    private static int blockSize(byte[] s, int off, String field, long base) throws FormatException {
        long v = LittleEndian.u32(s, off, field);
        if (!Align.isPowerOfTwo(v) || v < VerityParams.MIN_BLOCK_SIZE || v > VerityParams.MAX_BLOCK_SIZE) {
            throw new FormatException(base + off, field, v, "block size must be a power of two between 512 and 524288");
        }
        return (int) v;
    }

    private static String printable(String s) {
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** Reads and decodes the superblock at {@code hashOffset} of {@code hashFile}. */
    public static VeritySuperblock read(Path hashFile, long hashOffset) throws IOException {
        try (FileChannel ch = FileChannel.open(hashFile, StandardOpenOption.READ)) {
            return read(ch, hashOffset, hashFile);
        }
    }

    static VeritySuperblock read(FileChannel ch, long hashOffset, Path name) throws IOException {
        if (ch.size() < hashOffset + SIZE) {
            throw new FormatException(hashOffset, "superblock", null,
                    name + " is too small to hold a verity superblock (" + ch.size() + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.allocate(SIZE);
        readFully(ch, buf, hashOffset);
        return decode(buf.array(), hashOffset);
    }

    static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new EOFException("unexpected end of file at offset " + pos);
            }
            pos += n;
        }
    }

    /** The parameters this superblock describes, with the given location. */
    public VerityParams toParams(long hashOffset, FecParams fec) throws FormatException {
        HashAlgorithm alg;
        try {
            alg = HashAlgorithm.byName(algorithm);
        } catch (UnsupportedFeatureException e) {
            throw new FormatException("algorithm", algorithm, "unsupported hash algorithm in superblock");
        }
        return new VerityParams(alg, hashType, dataBlockSize, hashBlockSize, salt, uuid, true, hashOffset, dataBlocks, fec);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VeritySuperblock v && version == v.version && hashType == v.hashType && uuid.equals(v.uuid)
                && algorithm.equals(v.algorithm) && dataBlockSize == v.dataBlockSize && hashBlockSize == v.hashBlockSize
                && dataBlocks == v.dataBlocks && Arrays.equals(salt, v.salt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(uuid, algorithm, dataBlocks);
    }
}
