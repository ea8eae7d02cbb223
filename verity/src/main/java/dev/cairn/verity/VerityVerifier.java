package dev.cairn.verity;

import dev.cairn.io.AtomicOutput;
import dev.cairn.io.AtomicOutputGroup;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks data and hash tree against a root hash, as {@code veritysetup verify} does. The tree is
 * checked top down (root, then each level against the one above), then the data blocks in
 * parallel against the leaf level, so the first bad block reported is the one actually damaged.
 */
public final class VerityVerifier {
    private VerityVerifier() {
    }

    /** The geometry to verify with: the superblock's when there is one, else the given parameters. */
    public static VerityParams effectiveParams(Path hash, VerityParams params) throws IOException {
        if (!params.superblock()) {
            return params;
        }
        VeritySuperblock sb = VeritySuperblock.read(hash, params.hashOffset());
        return sb.toParams(params.hashOffset(), params.fec());
    }

    public static VerifyResult verify(Path data, Path hash, VerityParams params, byte[] rootHash, int threads,
                                      VerityProgress progress) throws IOException {
        VerityParams p = effectiveParams(hash, params);
        if (rootHash.length != p.hash().digestSize()) {
            throw new FormatException("root-hash", rootHash.length * 2 + " hex digits",
                    "root hash length does not match " + p.hash().veritysetupName() + " ("
                            + p.hash().digestSize() * 2 + " hex digits)");
        }
        try (FileChannel in = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel hc = FileChannel.open(hash, StandardOpenOption.READ)) {
            long dataBlocks = p.dataBlocks() == -1 ? VerityFormatter.coveredBlocks(in.size(), p, data) : p.dataBlocks();
            if (in.size() / p.dataBlockSize() < dataBlocks) {
                throw new FormatException("data", data, "data file is too small: " + in.size() + " bytes for "
                        + dataBlocks + " blocks of " + p.dataBlockSize());
            }
            TreeGeometry g = TreeGeometry.plan(p, dataBlocks);
            if (hc.size() < g.hashAreaEnd()) {
                throw new FormatException("hash", hash, "hash file is too small: " + hc.size()
                        + " bytes, the tree needs " + g.hashAreaEnd());
            }
            VerityResult geometry = new VerityResult(p.hash(), p.hashType(), p.dataBlockSize(), p.hashBlockSize(),
                    dataBlocks, p.salt(), p.superblock() ? p.uuid() : null, rootHash, p.hashOffset(),
                    g.hashStartBlock(), g.levels(), g.hashBlocks(), g.hashAreaEnd(), null);
            long[] bad = firstBadBlock(in, 0, in.size(), hc, p, g, rootHash, threads, progress);
            if (bad == null) {
                return new VerifyResult.Intact(geometry, p.fec() == null ? -1 : 0);
            }
            boolean isHash = bad[0] == 1;
            long offset = isHash ? (g.hashStartBlock() + bad[1]) * p.hashBlockSize() : bad[1] * p.dataBlockSize();
            long fecErrors = -1;
            boolean repairable = false;
            if (p.fec() != null) {
                // Like veritysetup: only when verification fails, decode every codeword and count what FEC can fix.
                VerityFec.DecodeResult d = decode(data, in, hash, hc, p, g, null, threads);
                fecErrors = d.correctedSymbols();
                repairable = d.uncorrectableCodewords() == 0;
            }
            return new VerifyResult.Corrupted(geometry, isHash ? "hash" : "data", bad[1], offset, fecErrors, repairable);
        }
    }

    /**
     * Verifies data that lies in {@code dataFile} at {@code dataOffset} ({@code dataLength} bytes)
     * against the superblock and tree at {@code hashOffset} of {@code hashFile}: a disk image's root
     * and root-verity partitions, checked in place. The geometry (algorithm, block sizes, salt,
     * data blocks) is the superblock's; the data blocks must fit in the data region and the
     * superblock and tree in the {@code hashLength} bytes at {@code hashOffset} (the partition).
     */
    public static VerifyResult verifyRegion(Path dataFile, long dataOffset, long dataLength, Path hashFile, long hashOffset,
                                            long hashLength, byte[] rootHash, int threads) throws IOException {
        VerityParams p = VeritySuperblock.read(hashFile, hashOffset).toParams(hashOffset, null);
        if (rootHash.length != p.hash().digestSize()) {
            throw new FormatException("root-hash", rootHash.length * 2 + " hex digits", "root hash length does not match "
                    + p.hash().veritysetupName());
        }
        try (FileChannel in = FileChannel.open(dataFile, StandardOpenOption.READ);
             FileChannel hc = FileChannel.open(hashFile, StandardOpenOption.READ)) {
            if (dataOffset < 0 || dataLength < 0 || dataOffset > in.size() - dataLength) {
                throw new FormatException("data", dataOffset, "region of " + dataLength + " bytes lies outside " + dataFile);
            }
            long dataBlocks = p.dataBlocks();
            if (dataBlocks < 0 || dataBlocks > dataLength / p.dataBlockSize()) {
                throw new FormatException("data blocks", dataBlocks, "more than the " + dataLength + "-byte data region holds");
            }
            TreeGeometry g = TreeGeometry.plan(p, dataBlocks);
            if (hashLength < 0 || hashOffset > hc.size() - hashLength) {
                throw new FormatException("hash", hashOffset, "region of " + hashLength + " bytes lies outside " + hashFile);
            }
            if (g.hashAreaEnd() > hashOffset + hashLength) {
                throw new FormatException("hash", hashFile, "the tree needs " + (g.hashAreaEnd() - hashOffset) + " bytes from offset "
                        + hashOffset + ", more than the " + hashLength + "-byte hash region");
            }
            VerityResult geometry = new VerityResult(p.hash(), p.hashType(), p.dataBlockSize(), p.hashBlockSize(), dataBlocks, p.salt(),
                    p.uuid(), rootHash, p.hashOffset(), g.hashStartBlock(), g.levels(), g.hashBlocks(), g.hashAreaEnd(), null);
            long[] bad = firstBadBlock(in, dataOffset, dataLength, hc, p, g, rootHash, threads, VerityProgress.NONE);
            if (bad == null) {
                return new VerifyResult.Intact(geometry, -1);
            }
            boolean isHash = bad[0] == 1;
            long offset = isHash ? (g.hashStartBlock() + bad[1]) * p.hashBlockSize() : dataOffset + bad[1] * p.dataBlockSize();
            return new VerifyResult.Corrupted(geometry, isHash ? "hash" : "data", bad[1], offset, -1, false);
        }
    }

    private static VerityFec.DecodeResult decode(Path data, FileChannel in, Path hash, FileChannel hc, VerityParams p,
                                                 TreeGeometry g, VerityFec.BlockSink sink, int threads) throws IOException {
        FecPlan plan = FecPlan.of(p, hash, g, data);
        VerityFec fec = new VerityFec(plan.message(in, g.dataBlocks(), p.dataBlockSize(), hc), p.dataBlockSize(), plan.roots());
        if (plan.sharesHashFile()) {
            return fec.decode(hc, plan.offset(), sink, threads);
        }
        try (FileChannel fc = FileChannel.open(plan.device(), StandardOpenOption.READ)) {
            return fec.decode(fc, plan.offset(), sink, threads);
        }
    }

    /**
     * Writes FEC-corrected copies of the data (to {@code dataOut}) and, when {@code hashOut} is
     * given, of the hash file, and verifies them before they replace anything: the outputs appear
     * only when the repaired copies verify against {@code rootHash}. When they do not,
     * {@link RepairResult#after()} says why and nothing was written. The inputs are never modified.
     * Fails (FormatException) when the FEC data cannot correct the damage.
     */
    public static RepairResult repair(Path data, Path hash, VerityParams params, byte[] rootHash, Path dataOut,
                                      Path hashOut, int threads) throws IOException {
        VerityParams p = effectiveParams(hash, params);
        if (p.fec() == null) {
            throw new IllegalArgumentException("repair needs FEC parameters (--fec-device)");
        }
        try (FileChannel in = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel hc = FileChannel.open(hash, StandardOpenOption.READ);
             AtomicOutputGroup outputs = new AtomicOutputGroup()) {
            AtomicOutput dOut = outputs.openCopying(dataOut, data);
            AtomicOutput hOut = hashOut == null ? null : outputs.openCopying(hashOut, hash);
            long dataBlocks = p.dataBlocks() == -1 ? VerityFormatter.coveredBlocks(in.size(), p, data) : p.dataBlocks();
            TreeGeometry g = TreeGeometry.plan(p, dataBlocks);
            int bs = p.dataBlockSize();
            long hashStart = g.hashStartBlock() * (long) bs;
            long hashLimit = hc.size();
            VerityFec.DecodeResult d = decode(data, in, hash, hc, p, g, (block, bytes) -> {
                if (block < dataBlocks) {
                    VerityFormatter.writeFully(dOut.channel(), ByteBuffer.wrap(bytes), block * bs);
                } else if (hOut != null) {
                    long pos = hashStart + (block - dataBlocks) * bs;
                    int n = (int) Math.min(bs, hashLimit - pos);
                    if (n > 0) {
                        VerityFormatter.writeFully(hOut.channel(), ByteBuffer.wrap(bytes, 0, n), pos);
                    }
                }
            }, threads);
            if (d.uncorrectableCodewords() > 0) {
                throw new FormatException("fec-device", p.fec().device(), d.uncorrectableCodewords()
                        + " codewords have more errors than the FEC data can correct; nothing was written");
            }
            // the repaired copies, still under their temporary names, must verify before they replace anything
            VerifyResult after = verify(dOut.tempPath(), hOut == null ? hash : hOut.tempPath(), params, rootHash, threads,
                    VerityProgress.NONE);
            if (after instanceof VerifyResult.Intact) {
                outputs.commit();
            }
            return new RepairResult(d.blocksChanged(), d.correctedSymbols(), after);
        }
    }

    /** {kind (0 data, 1 hash), block} of the first mismatch, or null when intact. */
    static long[] firstBadBlock(FileChannel in, long dataOffset, long dataSize, FileChannel hc, VerityParams p, TreeGeometry g,
                                byte[] rootHash, int threads, VerityProgress progress) throws IOException {
        int dbs = p.dataBlockSize();
        int hbs = p.hashBlockSize();
        BlockHasher hasher = new BlockHasher(p.hash(), p.salt(), p.hashType(), g.dataBlocks() * (long) dbs + g.hashBlocks() * (long) hbs);
        if (g.levels() == 0) {
            byte[] block = new byte[dbs];
            VeritySuperblock.readFully(in, ByteBuffer.wrap(block), dataOffset);
            progress.advanced(dbs);
            return MessageDigest.isEqual(hasher.hash(block, 0, dbs), rootHash) ? null : new long[] {0, 0};
        }
        int top = g.levels() - 1;
        byte[] buf = new byte[hbs];
        VeritySuperblock.readFully(hc, ByteBuffer.wrap(buf), g.levelStart()[top] * hbs);
        if (!MessageDigest.isEqual(hasher.hash(buf, 0, hbs), rootHash)) {
            return new long[] {1, g.levelStart()[top] - g.hashStartBlock()};
        }
        int slot = g.slotSize();
        byte[] expected = new byte[slot];
        byte[] actual = new byte[slot];
        for (int level = top; level >= 1; level--) {
            long below = g.levelBlocks()[level - 1];
            long belowStart = g.levelStart()[level - 1];
            for (long j = 0; j < below; j++) {
                VeritySuperblock.readFully(hc, ByteBuffer.wrap(buf), (belowStart + j) * hbs);
                Arrays.fill(actual, (byte) 0);
                hasher.hash(buf, 0, hbs, actual, 0);
                VeritySuperblock.readFully(hc, ByteBuffer.wrap(expected), g.slotOffset(level, j));
                if (!Arrays.equals(actual, expected)) {
                    return new long[] {1, belowStart + j - g.hashStartBlock()};
                }
            }
        }
        AtomicLong firstBad = new AtomicLong(Long.MAX_VALUE);
        int unit = ParallelLeafHasher.unitBlocks(dbs, g.hashesPerBlock());
        ParallelLeafHasher.run(in, dataOffset, dataSize, g.dataBlocks(), dbs, p, slot, unit, threads, progress, (first, count, slots) -> {
            if (first > firstBad.get()) {
                return;
            }
            byte[] stored = readSlots(hc, g, first, count);
            for (int i = 0; i < count; i++) {
                if (!Arrays.equals(slots, i * slot, (i + 1) * slot, stored, i * slot, (i + 1) * slot)) {
                    firstBad.accumulateAndGet(first + i, Math::min);
                    return;
                }
            }
        });
        return firstBad.get() == Long.MAX_VALUE ? null : new long[] {0, firstBad.get()};
    }

    /** Reads the stored leaf digest slots of data blocks [first, first+count). */
    static byte[] readSlots(FileChannel hc, TreeGeometry g, long first, int count) throws IOException {
        int slot = g.slotSize();
        int perBlock = g.hashesPerBlock();
        byte[] out = new byte[count * slot];
        int i = 0;
        while (i < count) {
            long item = first + i;
            int run = (int) Math.min(count - i, perBlock - item % perBlock);
            VeritySuperblock.readFully(hc, ByteBuffer.wrap(out, i * slot, run * slot), g.slotOffset(0, item));
            i += run;
        }
        return out;
    }
}
