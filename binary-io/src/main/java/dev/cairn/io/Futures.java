package dev.cairn.io;

import java.io.IOException;
import java.util.concurrent.ExecutionException;

/** Worker-thread failures back on the calling thread, with their original type. */
public final class Futures {
    private Futures() {
    }

    /**
     * The cause of {@code e} as an IOException to throw; unchecked causes (runtime exceptions and
     * errors) are rethrown as they are.
     */
    public static IOException unwrap(ExecutionException e) {
        return unwrap(e.getCause());
    }

    /**
     * A worker thread's failure {@code c} as an IOException to throw; unchecked ones (runtime
     * exceptions and errors) are rethrown as they are.
     */
    public static IOException unwrap(Throwable c) {
        if (c instanceof IOException io) {
            return io;
        }
        if (c instanceof RuntimeException re) {
            throw re;
        }
        if (c instanceof Error err) {
            throw err;
        }
        return new IOException(c);
    }

    /**
     * Waits for {@code t} to end even when interrupted (a thread that must not outlive what it
     * works on), then restores the interrupt.
     */
    public static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
