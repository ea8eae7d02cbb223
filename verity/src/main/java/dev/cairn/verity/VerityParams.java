package dev.cairn.verity;

import dev.cairn.io.Align;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * Everything that defines a dm-verity tree (veritysetup's format options).
 *
 * @param hash          hash algorithm
 * @param hashType      1 = normal (salt first, digests padded to a power of two), 0 = Chrome OS
 * @param dataBlockSize power of two, 512..524288
 * @param hashBlockSize power of two, 512..524288
 * @param salt          salt bytes (at most 256); empty means no salt ({@code --salt=-})
 * @param uuid          superblock UUID; may be null when {@code superblock} is false
 * @param superblock    whether a superblock precedes the tree
 * @param hashOffset    byte offset of the superblock (or tree) in the hash file, multiple of 512
 * @param dataBlocks    data blocks to cover, or -1 to derive them from the data file size
 * @param fec           forward error correction, or null
 */
public record VerityParams(HashAlgorithm hash, int hashType, int dataBlockSize, int hashBlockSize,
                           byte[] salt, UUID uuid, boolean superblock, long hashOffset,
                           long dataBlocks, FecParams fec) {
    public static final int MIN_BLOCK_SIZE = 512;
    public static final int MAX_BLOCK_SIZE = 512 * 1024;
    public static final int MAX_SALT_SIZE = 256;

    public VerityParams {
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(salt, "salt");
        if (hashType != 0 && hashType != 1) {
            throw new IllegalArgumentException("--format must be 0 or 1, not " + hashType);
        }
        checkBlockSize("--data-block-size", dataBlockSize);
        checkBlockSize("--hash-block-size", hashBlockSize);
        if (salt.length > MAX_SALT_SIZE) {
            throw new IllegalArgumentException("salt is " + salt.length + " bytes; at most 256 are allowed");
        }
        salt = salt.clone();
        if (hashOffset < 0 || hashOffset % 512 != 0) {
            throw new IllegalArgumentException("--hash-offset must be a non-negative multiple of 512, not " + hashOffset);
        }
        if (!superblock && hashOffset % hashBlockSize != 0) {
            throw new IllegalArgumentException("without a superblock, --hash-offset must be a multiple of the hash block size ("
                    + hashBlockSize + "), not " + hashOffset);
        }
        if (dataBlocks < -1 || dataBlocks == 0) {
            throw new IllegalArgumentException("--data-blocks must be positive, not " + dataBlocks);
        }
        if (superblock && uuid == null) {
            throw new IllegalArgumentException("a superblock needs a UUID");
        }
        if (fec != null && dataBlockSize != hashBlockSize) {
            throw new IllegalArgumentException("FEC needs equal data and hash block sizes ("
                    + dataBlockSize + " != " + hashBlockSize + ")");
        }
    }

    private static void checkBlockSize(String name, int size) {
        if (!Align.isPowerOfTwo(size) || size < MIN_BLOCK_SIZE || size > MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException(name + " must be a power of two between 512 and 524288, not " + size);
        }
    }

    /** veritysetup's defaults (sha256, type 1, 4096/4096, superblock at 0, no FEC) with the given salt and UUID. */
    public static VerityParams defaults(byte[] salt, UUID uuid) {
        return new VerityParams(HashAlgorithm.SHA256, 1, 4096, 4096, salt, uuid, true, 0, -1, null);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    public VerityParams withHash(HashAlgorithm h) {
        return new VerityParams(h, hashType, dataBlockSize, hashBlockSize, salt, uuid, superblock, hashOffset, dataBlocks, fec);
    }

    public VerityParams withHashType(int t) {
        return new VerityParams(hash, t, dataBlockSize, hashBlockSize, salt, uuid, superblock, hashOffset, dataBlocks, fec);
    }

    public VerityParams withBlockSizes(int dbs, int hbs) {
        return new VerityParams(hash, hashType, dbs, hbs, salt, uuid, superblock, hashOffset, dataBlocks, fec);
    }

    public VerityParams withSalt(byte[] s) {
        return new VerityParams(hash, hashType, dataBlockSize, hashBlockSize, s, uuid, superblock, hashOffset, dataBlocks, fec);
    }

    public VerityParams withSuperblock(boolean sb, UUID u) {
        return new VerityParams(hash, hashType, dataBlockSize, hashBlockSize, salt, u, sb, hashOffset, dataBlocks, fec);
    }

    public VerityParams withHashOffset(long off) {
        return new VerityParams(hash, hashType, dataBlockSize, hashBlockSize, salt, uuid, superblock, off, dataBlocks, fec);
    }

    public VerityParams withDataBlocks(long n) {
        return new VerityParams(hash, hashType, dataBlockSize, hashBlockSize, salt, uuid, superblock, hashOffset, n, fec);
    }

    public VerityParams withFec(FecParams f) {
        return new VerityParams(hash, hashType, dataBlockSize, hashBlockSize, salt, uuid, superblock, hashOffset, dataBlocks, f);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VerityParams p && hash == p.hash && hashType == p.hashType
                && dataBlockSize == p.dataBlockSize && hashBlockSize == p.hashBlockSize
                && Arrays.equals(salt, p.salt) && Objects.equals(uuid, p.uuid) && superblock == p.superblock
                && hashOffset == p.hashOffset && dataBlocks == p.dataBlocks && Objects.equals(fec, p.fec);
    }

    @Override
    public int hashCode() {
        return Objects.hash(hash, hashType, dataBlockSize, hashBlockSize, Arrays.hashCode(salt), uuid, superblock,
                hashOffset, dataBlocks, fec);
    }

    @Override
    public String toString() {
        return "VerityParams[" + hash.veritysetupName() + ", type " + hashType + ", " + dataBlockSize + "/" + hashBlockSize
                + ", salt " + salt.length + " bytes, uuid " + uuid + ", superblock " + superblock + ", hashOffset "
                + hashOffset + ", dataBlocks " + dataBlocks + ", fec " + fec + "]";
    }
}
