package dev.cairn.pipeline.uki;

import dev.cairn.signing.KeyMaterial;
import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * A signing key being loaded on another thread while the image it signs is planned and written:
 * an Authenticode signature needs the key only once the image's digest is known. Parsing a PEM key
 * and certificate takes 40-90 ms in a fresh JVM, the order of reading and hashing a 60 MB initrd,
 * so {@code cairn uki build} overlaps the two on a second core instead of doing them in turn.
 * A failed load is reported as the load's own exception, unchanged.
 */
public final class PendingKey {
    private final FutureTask<KeyMaterial> task;

    private PendingKey(FutureTask<KeyMaterial> task) {
        this.task = task;
    }

    /** Starts {@code load} on a daemon thread ({@code cairn-key}). */
    public static PendingKey start(Callable<KeyMaterial> load) {
        FutureTask<KeyMaterial> task = new FutureTask<>(load);
        Thread t = new Thread(task, "cairn-key");
        t.setDaemon(true);
        t.start();
        return new PendingKey(task);
    }

    /** The key, waiting for the load to end; its failure rethrown as it was thrown. */
    public KeyMaterial get() throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    // the load is short and holds files open: let it end rather than abandon it
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            throw dev.cairn.io.Futures.unwrap(e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
