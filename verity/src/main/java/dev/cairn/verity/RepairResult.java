package dev.cairn.verity;

/**
 * Outcome of {@link VerityVerifier#repair}.
 *
 * @param blocksRepaired  message blocks (data or hash) that FEC changed
 * @param bytesCorrected  symbols (bytes) corrected
 * @param after           verification of the repaired copies before they were written; when it is
 *                        {@link VerifyResult.Corrupted}, nothing was written
 */
public record RepairResult(long blocksRepaired, long bytesCorrected, VerifyResult after) {
}
