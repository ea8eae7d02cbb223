package dev.cairn.verity;

/**
 * The FEC part of a format result, as veritysetup reports it.
 *
 * @param roots         parity bytes per codeword
 * @param offset        byte offset of the parity in the FEC file
 * @param rsBlocks      "FEC blocks": parity blocks written
 * @param deviceSize    "FEC device size": bytes from the start of the FEC file to the end of the parity
 * @param coveredBlocks blocks of the RS message (data area plus hash area)
 */
public record FecResult(int roots, long offset, long rsBlocks, long deviceSize, long coveredBlocks) {
}
