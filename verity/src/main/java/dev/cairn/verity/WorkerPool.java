package dev.cairn.verity;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs numbered work items {@code 0..count-1} on up to {@code threads} daemon threads, each with
 * its own state (buffers) made by the factory, pulling the next item from a shared counter. The
 * first failure stops the others and is rethrown as it was.
 */
final class WorkerPool {
    /** Per-thread worker: processes one item. */
    interface Worker {
        void process(long item) throws IOException;
    }

    /** Makes one worker (and its buffers) per thread. */
    interface WorkerFactory {
        Worker create();
    }

    private WorkerPool() {
    }

    static void run(String name, int threads, long count, WorkerFactory factory) throws IOException {
        int workers = (int) Math.max(1, Math.min(threads, count));
        AtomicLong next = new AtomicLong();
        if (workers == 1) {
            drain(factory.create(), next, count);
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Void>> futures = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                futures.add(pool.submit(() -> {
                    drain(factory.create(), next, count);
                    return null;
                }));
            }
            for (Future<Void> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    next.set(Long.MAX_VALUE / 2); // stop the others
                    throw dev.cairn.io.Futures.unwrap(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void drain(Worker w, AtomicLong next, long count) throws IOException {
        long i;
        while ((i = next.getAndIncrement()) < count) {
            w.process(i);
        }
    }
}
