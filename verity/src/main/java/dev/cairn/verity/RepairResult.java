package dev.cairn.verity;

/**
 * Outcome of {@link VerityVerifier#repair}.
 *
 * @param blocksRepaired  message blocks (data or hash) that FEC changed
 * @param bytesCorrected  symbols (bytes) corrected
 * @param after           verification of the repaired output
 */
public record RepairResult(long blocksRepaired, long bytesCorrected, VerifyResult after) {
}
