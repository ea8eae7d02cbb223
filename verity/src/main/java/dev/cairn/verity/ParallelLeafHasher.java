package dev.cairn.verity;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

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
        long units = (dataBlocks + unitBlocks - 1) / unitBlocks;
        int workers = (int) Math.max(1, Math.min(threads, units));
        AtomicLong next = new AtomicLong();
        if (workers == 1) {
            work(data, dataBlocks, dataBlockSize, p, slotSize, unitBlocks, units, next, progress, sink);
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "cairn-verity-hash");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Void>> futures = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                futures.add(pool.submit(() -> {
                    work(data, dataBlocks, dataBlockSize, p, slotSize, unitBlocks, units, next, progress, sink);
                    return null;
                }));
            }
            for (Future<Void> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    next.set(Long.MAX_VALUE / 2); // stop the others
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) {
                        throw io;
                    }
                    if (c instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IOException(c);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while hashing");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void work(FileChannel data, long dataBlocks, int dbs, VerityParams p, int slotSize, int unitBlocks,
                             long units, AtomicLong next, VerityProgress progress, UnitSink sink) throws IOException {
        BlockHasher hasher = new BlockHasher(p.hash(), p.salt(), p.hashType());
        byte[] block = new byte[dbs];
        byte[] slots = new byte[unitBlocks * slotSize];
        int digest = p.hash().digestSize();
        long size = data.size();
        long u;
        while ((u = next.getAndIncrement()) < units) {
            long first = u * unitBlocks;
            int count = (int) Math.min(unitBlocks, dataBlocks - first);
            long pos = first * dbs;
            if (pos + (long) count * dbs > size) {
                throw new EOFException("data file ended at offset " + size + " before block " + dataBlocks);
            }
            // Mapping avoids a copy through a read buffer; the kernel's fault-around maps page-cache pages in batches.
            MappedByteBuffer buf = data.map(FileChannel.MapMode.READ_ONLY, pos, (long) count * dbs);
            if (slotSize != digest) {
                java.util.Arrays.fill(slots, (byte) 0);
            }
            for (int i = 0; i < count; i++) {
                buf.get(block);
                hasher.hash(block, 0, dbs, slots, i * slotSize);
            }
            sink.accept(first, count, slots);
            progress.advanced((long) count * dbs);
        }
    }
}
