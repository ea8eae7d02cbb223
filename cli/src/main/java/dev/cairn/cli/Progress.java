package dev.cairn.cli;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress bar on stderr, shown only on an interactive terminal, outside CI and without
 * --json. Otherwise every method is a no-op.
 */
public final class Progress implements AutoCloseable {
    private final PrintWriter err;
    private final String label;
    private final long total;
    private final boolean enabled;
    private final AtomicLong done = new AtomicLong();
    private volatile int lastPercent = -1;

    private Progress(PrintWriter err, String label, long total, boolean enabled) {
        this.err = err;
        this.label = label;
        this.total = Math.max(1, total);
        this.enabled = enabled;
    }

    public static Progress start(PrintWriter err, String label, long total, boolean json) {
        boolean on = !json && System.console() != null && !Environment.isCi();
        return new Progress(err, label, total, on);
    }

    public void advance(long n) {
        if (!enabled) {
            return;
        }
        int pct = (int) Math.min(100, done.addAndGet(n) * 100 / total);
        if (pct != lastPercent) {
            lastPercent = pct;
            synchronized (this) {
                int bars = pct / 4;
                err.print("\r" + label + " [" + "#".repeat(bars) + " ".repeat(25 - bars) + "] " + pct + "%");
                err.flush();
            }
        }
    }

    @Override
    public void close() {
        if (enabled && lastPercent >= 0) {
            err.print("\r" + " ".repeat(label.length() + 34) + "\r");
            err.flush();
        }
    }
}
