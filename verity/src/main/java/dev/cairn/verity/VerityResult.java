package dev.cairn.verity;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;

/**
 * A formatted (or read) verity tree: what veritysetup prints after {@code format} and what the
 * kernel table needs.
 *
 * @param uuid           superblock UUID, or null without a superblock
 * @param hashStartBlock first tree block, in hash blocks from the start of the hash file (table field)
 * @param levels         tree levels (0 when the data is a single block)
 * @param hashBlocks     tree blocks ("Hash blocks")
 * @param hashDeviceSize (hashStartBlock + hashBlocks) × hash block size ("Hash device size")
 * @param fec            FEC details, or null
 */
public record VerityResult(HashAlgorithm hash, int hashType, int dataBlockSize, int hashBlockSize,
                           long dataBlocks, byte[] salt, UUID uuid, byte[] rootHash, long hashOffset,
                           long hashStartBlock, int levels, long hashBlocks, long hashDeviceSize,
                           FecResult fec) {
    public VerityResult {
        salt = salt.clone();
        rootHash = rootHash.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] rootHash() {
        return rootHash.clone();
    }

    public String rootHashHex() {
        return HexFormat.of().formatHex(rootHash);
    }

    /** Lower-case hex, or "-" for no salt (veritysetup's notation). */
    public String saltHex() {
        return salt.length == 0 ? "-" : HexFormat.of().formatHex(salt);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VerityResult r && hash == r.hash && hashType == r.hashType
                && dataBlockSize == r.dataBlockSize && hashBlockSize == r.hashBlockSize && dataBlocks == r.dataBlocks
                && Arrays.equals(salt, r.salt) && Objects.equals(uuid, r.uuid) && Arrays.equals(rootHash, r.rootHash)
                && hashOffset == r.hashOffset && hashStartBlock == r.hashStartBlock && levels == r.levels
                && hashBlocks == r.hashBlocks && hashDeviceSize == r.hashDeviceSize && Objects.equals(fec, r.fec);
    }

    @Override
    public int hashCode() {
        return Objects.hash(hash, dataBlocks, Arrays.hashCode(rootHash), hashOffset);
    }

    @Override
    public String toString() {
        return "VerityResult[root " + rootHashHex() + ", " + dataBlocks + " data blocks, " + hashBlocks
                + " hash blocks, " + levels + " levels]";
    }
}
