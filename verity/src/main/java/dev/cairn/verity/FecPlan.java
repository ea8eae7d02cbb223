package dev.cairn.verity;

import dev.cairn.io.Align;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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

    /** The RS message: the data area, then the hash file from the first tree block to its end (or the FEC offset). */
    List<VerityFec.Segment> message(FileChannel data, long dataBlocks, int blockSize, FileChannel hash) throws IOException {
        long hashEnd = sharesHashFile ? offset : hash.size();
        return List.of(new VerityFec.Segment(data, 0, dataBlocks * blockSize),
                new VerityFec.Segment(hash, hashAreaStart, Math.max(0, hashEnd - hashAreaStart)));
    }

    FecResult encode(FileChannel data, long dataBlocks, int blockSize, FileChannel hash, FileChannel out, int threads)
            throws IOException {
        VerityFec fec = new VerityFec(message(data, dataBlocks, blockSize, hash), blockSize, roots);
        fec.encode(out, offset, threads);
        VerityFormatter.extendTo(out, offset + fec.paritySize());
        return new FecResult(roots, offset, fec.rsBlocks(), offset + fec.paritySize(), fec.blocks);
    }
}
