package dev.cairn.verity;

import dev.cairn.io.Align;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the FEC parity goes and what it covers (cryptsetup's {@code VERITY_FEC_blocks}): the data
 * area, then the hash file from the first tree block to its end, or to the FEC offset when the
 * parity shares the hash file. The superblock block is not covered.
 */
record FecPlan(Path device, long offset, int roots, boolean sharesHashFile, long hashAreaStart) {
    /** Reed-Solomon codeword length. */
    static final int RS_N = 255;

    static FecPlan of(VerityParams p, Path hash, TreeGeometry g, Path data) throws IOException {
        FecParams f = p.fec();
        if (f == null) {
            return null;
        }
        boolean shares = Files.exists(f.device()) && Files.exists(hash) && Files.isSameFile(f.device(), hash)
                || f.device().toAbsolutePath().normalize().equals(hash.toAbsolutePath().normalize());
        if (Files.exists(f.device()) && Files.isSameFile(f.device(), data)) {
            throw new FormatException("fec-device", f.device(), "FEC parity cannot be written into the data file");
        }
        if (shares && f.offset() < g.hashAreaEnd()) {
            throw new FormatException("fec-offset", f.offset(), "FEC parity would overlap the hash tree, which ends at "
                    + g.hashAreaEnd());
        }
        return new FecPlan(f.device(), f.offset(), f.roots(), shares, g.hashStartBlock() * g.hashBlockSize());
    }

    /** RS message blocks: data blocks plus the covered part of the hash file. */
    static long messageBlocks(long dataBlocks, long hashBytes, int blockSize) {
        return dataBlocks + Align.ceilDiv(hashBytes, blockSize);
    }

    FecResult encode(FileChannel data, long dataBlocks, FileChannel hash, FileChannel out, int threads) throws IOException {
        int bs = Math.toIntExact(hashAreaStart == 0 ? 4096 : 0); // placeholder, replaced below
        throw new UnsupportedOperationException("FEC encoding is wired in by the FEC engine");
    }
}
