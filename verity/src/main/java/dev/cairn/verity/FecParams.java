package dev.cairn.verity;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Forward error correction settings, as veritysetup's {@code --fec-device}, {@code --fec-offset}
 * and {@code --fec-roots}.
 *
 * @param device file that receives (or holds) the Reed-Solomon parity
 * @param offset byte offset of the parity in that file, a multiple of 512
 * @param roots  parity bytes per 255-byte codeword, 2..24
 */
public record FecParams(Path device, long offset, int roots) {
    public static final int MIN_ROOTS = 2;
    public static final int MAX_ROOTS = 24;

    public FecParams {
        Objects.requireNonNull(device, "device");
        if (roots < MIN_ROOTS || roots > MAX_ROOTS) {
            throw new IllegalArgumentException("--fec-roots must be between 2 and 24, not " + roots);
        }
        if (offset < 0 || offset % 512 != 0) {
            throw new IllegalArgumentException("--fec-offset must be a non-negative multiple of 512, not " + offset);
        }
    }
}
