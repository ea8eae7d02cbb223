package dev.cairn.verity;

import java.io.EOFException;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Streams the data area once and hashes its blocks on several threads. Work is split into units
 * of whole data blocks that never straddle a leaf hash block unless they cover whole hash blocks;
 * each worker reads its unit with positional reads into its own buffer, so memory is bounded by
 * threads × unit size whatever the data size.
 */
final class ParallelLeafHasher {
    /** Target bytes of data per work unit. */
    static final int UNIT_BYTES = 4 << 20;

    /** Receives the digests of data blocks [first, first+count), packed as digest slots. */
    interface UnitSink {
        void accept(long firstBlock, int count, byte[] slots) throws IOException;
    }

    private ParallelLeafHasher() {
    }

    /** Blocks per unit: a power of two that is a multiple of, or divides, the hashes per block. */
    static int unitBlocks(int dataBlockSize, int hashesPerBlock) {
        int perUnit = Math.max(1, UNIT_BYTES / dataBlockSize);
        if (perUnit >= hashesPerBlock) {
            return perUnit - perUnit % hashesPerBlock;
        }
        return Integer.highestOneBit(perUnit);
    }

    static void run(FileChannel data, long dataBlocks, int dataBlockSize, VerityParams p, int slotSize,
                    int unitBlocks, int threads, VerityProgress progress, UnitSink sink) throws IOException {
        run(data, 0, data.size(), dataBlocks, dataBlockSize, p, slotSize, unitBlocks, threads, progress, sink);
    }

    /** Like {@link #run(FileChannel, long, int, VerityParams, int, int, int, VerityProgress, UnitSink)} over the data at {@code dataOffset} of {@code data}, {@code size} bytes long. */
    static void run(FileChannel data, long dataOffset, long size, long dataBlocks, int dataBlockSize, VerityParams p, int slotSize,
                    int unitBlocks, int threads, VerityProgress progress, UnitSink sink) throws IOException {
        long units = (dataBlocks + unitBlocks - 1) / unitBlocks;
        WorkerPool.run("cairn-verity-hash", threads, units, () -> worker(data, dataOffset, size, dataBlocks, dataBlockSize, p, slotSize,
                unitBlocks, progress, sink));
    }

    private static WorkerPool.Worker worker(FileChannel data, long dataOffset, long size, long dataBlocks, int dbs, VerityParams p,
                                            int slotSize, int unitBlocks, VerityProgress progress, UnitSink sink) {
        BlockHasher hasher = new BlockHasher(p.hash(), p.salt(), p.hashType());
        byte[] block = new byte[dbs];
        byte[] slots = new byte[unitBlocks * slotSize];
        int digest = p.hash().digestSize();
        return u -> {
            long first = u * unitBlocks;
            int count = (int) Math.min(unitBlocks, dataBlocks - first);
            long pos = first * dbs;
            if (pos + (long) count * dbs > size) {
                throw new EOFException("data file ended at offset " + size + " before block " + dataBlocks);
            }
            // Mapping avoids a copy through a read buffer; the kernel's fault-around maps page-cache pages in batches.
            MappedByteBuffer buf = data.map(FileChannel.MapMode.READ_ONLY, dataOffset + pos, (long) count * dbs);
            if (slotSize != digest) {
                java.util.Arrays.fill(slots, (byte) 0);
            }
            for (int i = 0; i < count; i++) {
                buf.get(block);
                hasher.hash(block, 0, dbs, slots, i * slotSize);
            }
            sink.accept(first, count, slots);
            progress.advanced((long) count * dbs);
        };
    }
}
