package dev.cairn.verity;

import dev.cairn.io.AtomicOutput;
import dev.cairn.io.AtomicOutputGroup;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Builds a dm-verity hash tree (and superblock, and FEC parity) exactly as {@code veritysetup
 * format} does. Outputs are written beside their targets and renamed into place only when
 * complete; a failure leaves the targets untouched.
 */
public final class VerityFormatter {
    private VerityFormatter() {
    }

    public static VerityResult format(Path data, Path hash, VerityParams params, int threads,
                                      VerityProgress progress) throws IOException {
        try (AtomicOutputGroup outputs = new AtomicOutputGroup()) {
            VerityResult r = format(data, hash, params, threads, progress, outputs);
            outputs.commit();
            return r;
        }
    }

    /**
     * Like {@link #format(Path, Path, VerityParams, int, VerityProgress)}, but leaves the outputs
     * (hash file, FEC device) uncommitted in {@code outputs}, for callers that write more files
     * and commit them all together.
     */
    public static VerityResult format(Path data, Path hash, VerityParams params, int threads,
                                      VerityProgress progress, AtomicOutputGroup outputs) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1");
        }
        try (FileChannel in = FileChannel.open(data, StandardOpenOption.READ)) {
            long dataBlocks = coveredBlocks(in.size(), params, data);
            TreeGeometry g = TreeGeometry.plan(params, dataBlocks);
            boolean sameFile = Files.exists(hash) && Files.isSameFile(data, hash);
            if (sameFile && params.hashOffset() < dataBlocks * params.dataBlockSize()) {
                throw new FormatException("hash-offset", params.hashOffset(),
                        "the hash area would overlap the " + dataBlocks * params.dataBlockSize() + "-byte data area");
            }
            FecPlan fec = FecPlan.of(params, hash, g, data);
            boolean keepExisting = sameFile || (params.hashOffset() > 0 && Files.exists(hash));
            // FEC first: outputs are renamed in the order opened, and a hash file should not be newer than its FEC
            AtomicOutput fecOut = fec != null && !fec.sharesHashFile() ? outputs.open(fec.device()) : null;
            AtomicOutput out = keepExisting ? outputs.openCopying(hash, hash) : outputs.open(hash);
            FileChannel ch = out.channel();
            if (keepExisting) {
                zero(ch, params.hashOffset(), g.hashAreaEnd());
            }
            extendTo(ch, g.hashAreaEnd());
            byte[] root = writeTree(in, ch, params, g, threads, progress);
            if (params.superblock()) {
                writeFully(ch, ByteBuffer.wrap(VeritySuperblock.of(params, dataBlocks).encode()), params.hashOffset());
            }
            FecResult fecResult = null;
            if (fec != null) {
                fecResult = fec.encode(in, dataBlocks, params.dataBlockSize(), ch, fecOut == null ? ch : fecOut.channel(), threads);
            }
            return new VerityResult(params.hash(), params.hashType(), params.dataBlockSize(), params.hashBlockSize(),
                    dataBlocks, params.salt(), params.superblock() ? params.uuid() : null, root, params.hashOffset(),
                    g.hashStartBlock(), g.levels(), g.hashBlocks(), g.hashAreaEnd(), fecResult);
        }
    }

    /**
     * The result {@code format} would report for these parameters and root hash, without reading
     * or writing anything (for table output from an existing tree).
     */
    public static VerityResult describe(VerityParams p, long dataBlocks, byte[] rootHash) {
        TreeGeometry g = TreeGeometry.plan(p, dataBlocks);
        return new VerityResult(p.hash(), p.hashType(), p.dataBlockSize(), p.hashBlockSize(), dataBlocks, p.salt(),
                p.superblock() ? p.uuid() : null, rootHash, p.hashOffset(), g.hashStartBlock(), g.levels(),
                g.hashBlocks(), g.hashAreaEnd(), null);
    }

    /** The number of data blocks to cover, refusing sizes that would leave bytes unprotected. */
    static long coveredBlocks(long size, VerityParams p, Path data) throws FormatException {
        int dbs = p.dataBlockSize();
        if (p.dataBlocks() == -1) {
            if (size == 0) {
                throw new FormatException("data", data, "data file is empty");
            }
            if (size % dbs != 0) {
                throw new FormatException("data", data, "data size " + size + " is not a multiple of the data block size "
                        + dbs + ": the last " + size % dbs + " bytes would not be protected (pad the image, or give"
                        + " --data-blocks to cover exactly " + size / dbs + " blocks)");
            }
            return size / dbs;
        }
        if (p.dataBlocks() > size / dbs) {
            throw new FormatException("data-blocks", p.dataBlocks(), "the data file holds only " + size / dbs
                    + " blocks of " + dbs + " bytes");
        }
        return p.dataBlocks();
    }

    /** Writes every level of the tree; returns the root hash. */
    static byte[] writeTree(FileChannel data, FileChannel ch, VerityParams p, TreeGeometry g, int threads,
                            VerityProgress progress) throws IOException {
        int dbs = p.dataBlockSize();
        int hbs = p.hashBlockSize();
        if (g.levels() == 0) {
            byte[] block = new byte[dbs];
            VeritySuperblock.readFully(data, ByteBuffer.wrap(block), 0);
            progress.advanced(dbs);
            return new BlockHasher(p.hash(), p.salt(), p.hashType(), dbs).hash(block, 0, dbs);
        }
        int unit = ParallelLeafHasher.unitBlocks(dbs, g.hashesPerBlock());
        ParallelLeafHasher.run(data, g.dataBlocks(), dbs, p, g.slotSize(), unit, threads, progress,
                (first, count, slots) -> writeSlots(ch, g, 0, first, count, slots));
        BlockHasher hasher = new BlockHasher(p.hash(), p.salt(), p.hashType(), g.hashBlocks() * (long) hbs);
        int chunkBlocks = Math.max(1, (1 << 20) / hbs);
        byte[] buf = new byte[chunkBlocks * hbs];
        byte[] slots = new byte[chunkBlocks * g.slotSize()];
        for (int level = 1; level < g.levels(); level++) {
            long below = g.levelBlocks()[level - 1];
            long belowStart = g.levelStart()[level - 1];
            for (long first = 0; first < below; first += chunkBlocks) {
                int count = (int) Math.min(chunkBlocks, below - first);
                VeritySuperblock.readFully(ch, ByteBuffer.wrap(buf, 0, count * hbs), (belowStart + first) * hbs);
                java.util.Arrays.fill(slots, (byte) 0);
                for (int i = 0; i < count; i++) {
                    hasher.hash(buf, i * hbs, hbs, slots, i * g.slotSize());
                }
                writeSlots(ch, g, level, first, count, slots);
            }
        }
        byte[] top = new byte[hbs];
        VeritySuperblock.readFully(ch, ByteBuffer.wrap(top), g.levelStart()[g.levels() - 1] * (long) hbs);
        return hasher.hash(top, 0, hbs);
    }

    /** Writes the digest slots of items [first, first+count) of the level below {@code level}. */
    static void writeSlots(FileChannel ch, TreeGeometry g, int level, long first, int count, byte[] slots)
            throws IOException {
        int slot = g.slotSize();
        int perBlock = g.hashesPerBlock();
        if ((long) perBlock * slot == g.hashBlockSize()) {
            writeFully(ch, ByteBuffer.wrap(slots, 0, count * slot), g.slotOffset(level, first));
            return;
        }
        // Packed digests leave a gap at the end of each hash block: write run by run.
        int i = 0;
        while (i < count) {
            long item = first + i;
            int run = (int) Math.min(count - i, perBlock - item % perBlock);
            writeFully(ch, ByteBuffer.wrap(slots, i * slot, run * slot), g.slotOffset(level, item));
            i += run;
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    /** Zero-fills [from, to) (used when the hash file keeps existing bytes around the tree). */
    static void zero(FileChannel ch, long from, long to) throws IOException {
        ByteBuffer z = ByteBuffer.allocate(1 << 16);
        for (long pos = from; pos < to; pos += z.capacity()) {
            z.clear().limit((int) Math.min(z.capacity(), to - pos));
            writeFully(ch, z, pos);
        }
    }

    /** Makes the file at least {@code size} bytes long (a trailing hole reads as zeros). */
    static void extendTo(FileChannel ch, long size) throws IOException {
        if (ch.size() < size) {
            writeFully(ch, ByteBuffer.allocate(1), size - 1);
        }
    }
}
