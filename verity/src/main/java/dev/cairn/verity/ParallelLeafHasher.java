package dev.cairn.verity;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Streams the data area once and hashes its blocks on several threads. Work is split into units
 * of whole data blocks that never straddle a leaf hash block unless they cover whole hash blocks;
 * each worker reads its unit in chunks with positional reads into its own reused direct buffer,
 * so memory is bounded by threads × chunk size whatever the data size.
 *
 * <p>The data is read, not mapped: pages of a mapped file count in the process's resident set
 * for as long as the mapping lives, and on JDK 17 a {@code MappedByteBuffer} is unmapped only
 * when the garbage collector finds it unreachable, which with small heaps and few allocations can
 * be never: mapping each unit made {@code verity format} of a 4 GiB file peak at a 4.2 GB
 * resident set. (Unmapping by hand needs {@code sun.misc.Unsafe.invokeCleaner}, which JDK 24 and
 * later warn about on standard error, or JDK 22's {@code Arena}, which JDK 17 lacks.) A read copies
 * from the page cache into a buffer that stays in the CPU cache for the hashing that follows; the
 * copy costs some system time, the mapping's page faults cost about as much (bench/verity.sh).
 */
final class ParallelLeafHasher {
    /** Target bytes of data per work unit. */
    static final int UNIT_BYTES = 4 << 20;
    /** Bytes read at a time (rounded to whole data blocks): small enough to stay in the CPU's L2 cache. */
    static final int CHUNK_BYTES = 256 << 10;

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
        BlockHasher hasher = new BlockHasher(p.hash(), p.salt(), p.hashType(), dataBlocks * dbs);
        byte[] block = new byte[dbs];
        byte[] slots = new byte[unitBlocks * slotSize];
        int digest = p.hash().digestSize();
        int chunkBlocks = Math.max(1, Math.min(unitBlocks, CHUNK_BYTES / dbs));
        ByteBuffer buf = ByteBuffer.allocateDirect(chunkBlocks * dbs);
        return u -> {
            long first = u * unitBlocks;
            int count = (int) Math.min(unitBlocks, dataBlocks - first);
            long pos = first * dbs;
            if (pos + (long) count * dbs > size) {
                throw new EOFException("data file ended at offset " + size + " before block " + dataBlocks);
            }
            if (slotSize != digest) {
                java.util.Arrays.fill(slots, (byte) 0);
            }
            for (int i = 0; i < count; i += chunkBlocks) {
                int n = Math.min(chunkBlocks, count - i);
                buf.clear().limit(n * dbs);
                readFully(data, buf, dataOffset + pos + (long) i * dbs, dataBlocks);
                buf.flip();
                for (int j = 0; j < n; j++) {
                    buf.get(block);
                    hasher.hash(block, 0, dbs, slots, (i + j) * slotSize);
                }
            }
            sink.accept(first, count, slots);
            progress.advanced((long) count * dbs);
        };
    }

    private static void readFully(FileChannel data, ByteBuffer buf, long pos, long dataBlocks) throws IOException {
        while (buf.hasRemaining()) {
            int n = data.read(buf, pos);
            if (n < 0) {
                throw new EOFException("data file ended at offset " + pos + " before block " + dataBlocks);
            }
            pos += n;
        }
    }
}
