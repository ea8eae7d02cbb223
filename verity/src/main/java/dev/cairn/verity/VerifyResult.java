package dev.cairn.verity;

/** Outcome of {@link VerityVerifier#verify}. */
public sealed interface VerifyResult {
    /** The geometry that was checked. */
    VerityResult params();

    /**
     * Every block matches the tree and the root hash.
     *
     * @param fecRepairableErrors always 0 here (kept for symmetry); -1 when no FEC was given
     */
    record Intact(VerityResult params, long fecRepairableErrors) implements VerifyResult {
    }

    /**
     * The first mismatch found, hash area first (top down), then data.
     *
     * @param kind                "data" or "hash"
     * @param block               data block number, or hash block number counted from the first tree block
     * @param fileOffset          byte offset of that block in its file
     * @param fecRepairableErrors symbols the FEC data can correct, or -1 when no FEC was given
     * @param fecCanRepair        whether every damaged codeword is correctable
     */
    record Corrupted(VerityResult params, String kind, long block, long fileOffset, long fecRepairableErrors,
                     boolean fecCanRepair) implements VerifyResult {
        public String describe() {
            return kind + " block " + block + " (offset " + fileOffset + ") does not match the "
                    + (kind.equals("hash") && block == 0 ? "root hash" : "hash tree");
        }
    }
}
