package dev.cairn.uki;

import dev.cairn.uki.pe.PeChecksum;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The second half of {@link UkiWriter}'s single pass, on a second thread: the PE checksum and the
 * write of each chunk happen there while the caller's thread reads the next chunk and hashes it
 * (Authenticode). For a 70 MB UKI the one-thread pass spent about 110 ms: 55 reading and hashing,
 * 35 summing and writing. Chunks are copied into a few buffers of its own (the caller reuses its
 * one), so at most {@link #BUFFERS} chunks are in flight. The checksum and the file are complete
 * only after {@link #finish()}; {@link #close()} stops the thread in every case.
 */
final class WriteBehind implements AutoCloseable {
    /** Outputs from this size on are written behind; smaller ones are not worth a thread. */
    static final long MIN_SIZE = 8L << 20;
    static final int CHUNK = 1 << 20;
    static final int BUFFERS = 4;

    /** A chunk to sum and write: {@code n} bytes of {@code b}; {@code b == null} ends the stream. */
    private record Chunk(byte[] b, int n) {
    }

    private static final Chunk END = new Chunk(null, 0);

    private final FileChannel out;
    private final PeChecksum sum;
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(BUFFERS + 1);
    private final Thread thread;
    private volatile Throwable failure;
    private boolean finished;

    WriteBehind(FileChannel out, PeChecksum sum) {
        this.out = out;
        this.sum = sum;
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[CHUNK]);
        }
        thread = new Thread(this::run, "cairn-write");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues {@code len} bytes of {@code b} (copied: the caller may reuse {@code b} at once). */
    void accept(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, CHUNK);
            byte[] t = take(free);
            System.arraycopy(b, off, t, 0, n);
            put(full, new Chunk(t, n));
            off += n;
            len -= n;
        }
    }

    /** Waits until everything queued is summed and written; rethrows the thread's failure. */
    void finish() throws IOException {
        if (!finished) {
            finished = true;
            put(full, END);
        }
        join();
        rethrow();
    }

    /** Stops the thread (after its current chunk) when {@link #finish()} was not reached. */
    @Override
    public void close() {
        if (thread.isAlive()) {
            thread.interrupt();
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        try {
            while (true) {
                Chunk c = full.take();
                if (c == END) {
                    return;
                }
                sum.update(c.b(), 0, c.n());
                ByteBuffer bb = ByteBuffer.wrap(c.b(), 0, c.n());
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
                free.put(c.b());
            }
        } catch (InterruptedException e) {
            // closed before finish(): the output is being thrown away
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
        }
    }

    private <T> T take(BlockingQueue<T> q) throws IOException {
        while (true) {
            rethrow();
            try {
                T t = q.poll(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (t != null) {
                    return t;
                }
                if (!thread.isAlive()) {
                    rethrow();
                    throw new IllegalStateException("the UKI writer thread ended early");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while writing the UKI");
            }
        }
    }

    private <T> void put(BlockingQueue<T> q, T t) throws IOException {
        try {
            q.put(t); // never blocks: full has room for every buffer and the end mark
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing the UKI");
        }
    }

    private void join() throws IOException {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing the UKI");
        }
    }

    private void rethrow() throws IOException {
        Throwable f = failure;
        if (f instanceof IOException io) {
            throw new IOException("writing the UKI failed: " + io.getMessage(), io);
        }
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
    }
}
