package dev.cairn.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The progress line of a long operation, on standard error: a label, a bar with the percentage,
 * bytes done of the total, the rate and the time left; without a known total, a spinner with bytes
 * and rate; for work that counts no bytes (a build step), a spinner with the time elapsed.
 *
 * <p>It shows only when {@link #wanted(boolean) wanted}: standard error is a terminal, no
 * {@code --json}, not under CI ({@code CI=true}), {@code TERM} is not {@code dumb} and
 * {@code CAIRN_PROGRESS} is not {@code 0}. Otherwise every method is a no-op and no thread starts.
 *
 * <p>Workers only add to a counter ({@link #advance}, any thread, no locking); a daemon thread
 * draws the line at most {@link #FRAMES_PER_SECOND} times a second, the first time once the
 * operation ran for {@code cairn.progress.delay} milliseconds (default {@value #DEFAULT_DELAY_MS}:
 * quick commands print nothing), each frame over the last with {@code \r}. {@link #close()} erases
 * the line, so the command's own output (standard output, printed afterwards) starts on a clean
 * line; {@link #interject} prints a message above the line while it is shown.
 */
public final class Progress implements AutoCloseable {
    /** Redraws per second, at most. */
    public static final int FRAMES_PER_SECOND = 10;
    static final long FRAME_NANOS = 1_000_000_000L / FRAMES_PER_SECOND;
    static final long DEFAULT_DELAY_MS = 400;
    /** Lines stay within an 80-column terminal. */
    static final int WIDTH = 79;
    static final int MIN_BAR = 10;
    static final int MAX_BAR = 30;
    private static final String SPINNER = "|/-\\";

    /** What the counter counts. */
    enum Unit { BYTES, NONE }

    private static final Progress OFF = new Progress(null, "", 0, Unit.NONE, false, System::nanoTime, 0);

    private final PrintWriter err;
    private final boolean enabled;
    private final LongSupplier clock;
    private final long delayNanos;
    private final long created;
    private final AtomicLong done = new AtomicLong();
    private final Object lock = new Object();
    private volatile String label;
    private volatile long total;
    private volatile Unit unit;
    private volatile long started;
    private long lastFrame;
    private int frames;
    private int shownWidth;
    private boolean shown;
    private boolean closed;
    private Thread ticker;

    Progress(PrintWriter err, String label, long total, Unit unit, boolean enabled, LongSupplier clock, long delayNanos) {
        this.err = err;
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.enabled = enabled;
        this.clock = clock;
        this.delayNanos = delayNanos;
        this.created = enabled ? clock.getAsLong() : 0;
        this.started = created;
    }

    /** A byte bar for {@code total} bytes ({@code total <= 0}: unknown), or a no-op when progress is not wanted. */
    public static Progress start(PrintWriter err, String label, long total, boolean json) {
        return start(err, label, total, Unit.BYTES, wanted(json));
    }

    /** A spinner with the time elapsed (work that counts no bytes), or a no-op when progress is not wanted. */
    public static Progress spinner(PrintWriter err, String label, boolean json) {
        return start(err, label, -1, Unit.NONE, wanted(json));
    }

    private static Progress start(PrintWriter err, String label, long total, Unit unit, boolean on) {
        if (!on) {
            return OFF;
        }
        Progress p = new Progress(err, label, total, unit, true, System::nanoTime, delayMillis() * 1_000_000L);
        Shown.LINES.add(p);
        p.startTicker();
        return p;
    }

    /** A progress line that is never shown. */
    public static Progress off() {
        return OFF;
    }

    /**
     * Whether a progress line is wanted: standard error is a terminal ({@link #stderrIsTerminal()}),
     * no {@code --json}, not CI, {@code TERM} not {@code dumb}, {@code CAIRN_PROGRESS} not {@code 0}.
     */
    public static boolean wanted(boolean json) {
        return !json && !Environment.isCi() && !"dumb".equals(Environment.get("TERM"))
                && !"0".equals(Environment.get("CAIRN_PROGRESS")) && stderrIsTerminal();
    }

    /**
     * Whether file descriptor 2 is a terminal. Java has no isatty (and {@code System.console()}
     * looks at standard input and output, and on JDK 22+ is not null even in a pipe): the launcher
     * tests {@code [ -t 2 ]} and passes {@code -Dcairn.stderr.tty=1} or {@code 0}. Without that
     * property (cairn's classes run in another JVM: tests, a library user) it reads where
     * {@code /proc/self/fd/2} points: a pseudo-terminal or a tty device is a terminal; anything else,
     * or no {@code /proc}, is not.
     */
    public static boolean stderrIsTerminal() {
        String p = System.getProperty("cairn.stderr.tty");
        if (p != null) {
            return p.equals("1");
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** Lines being drawn: a Ctrl-C (JVM shutdown) erases them, so the shell's prompt starts on a clean line. */
    private static final class Shown {
        static final java.util.Set<Progress> LINES = java.util.concurrent.ConcurrentHashMap.newKeySet();

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> LINES.forEach(Progress::close), "cairn-progress-erase"));
        }
    }

    private static long delayMillis() {
        String d = System.getProperty("cairn.progress.delay");
        if (d != null) {
            try {
                return Math.max(0, Long.parseLong(d.trim()));
            } catch (NumberFormatException e) {
                // fall back to the default
            }
        }
        return DEFAULT_DELAY_MS;
    }

    private void startTicker() {
        ticker = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(FRAME_NANOS / 1_000_000);
                    tick();
                    synchronized (lock) {
                        if (closed) {
                            return;
                        }
                    }
                }
            } catch (InterruptedException e) {
                // closed
            }
        }, "cairn-progress");
        ticker.setDaemon(true);
        ticker.start();
    }

    public boolean enabled() {
        return enabled;
    }

    public String label() {
        return label;
    }

    /** Adds {@code n} to the work done (bytes, or units of work); thread-safe and cheap. */
    public void advance(long n) {
        if (enabled) {
            done.addAndGet(n);
        }
    }

    /** Starts over with another label and total (the next blob of a transfer): rate and time left are the new item's. */
    public void restart(String newLabel, long newTotal) {
        if (!enabled) {
            return;
        }
        synchronized (lock) {
            label = newLabel;
            total = newTotal;
            unit = Unit.BYTES;
            done.set(0);
            started = clock.getAsLong();
        }
    }

    /** Wraps {@code in} so that every byte read advances this progress. */
    public InputStream counting(InputStream in) {
        if (!enabled) {
            return in;
        }
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    advance(1);
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    advance(n);
                }
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                long s = super.skip(n);
                if (s > 0) {
                    advance(s);
                }
                return s;
            }
        };
    }

    /** Prints through {@code print} (lines on the same terminal) with the progress line erased first; the next frame redraws it. */
    public void interject(Runnable print) {
        if (!enabled) {
            print.run();
            return;
        }
        synchronized (lock) {
            erase();
            print.run();
            err.flush();
        }
    }

    /** Draws a frame if one is due (called by the ticker thread; by tests with their own clock). */
    void tick() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            long now = clock.getAsLong();
            if (now - created < delayNanos || (shown && now - lastFrame < FRAME_NANOS)) {
                return;
            }
            String f = frame(label, done.get(), total, unit, now - started, frames);
            frames++;
            lastFrame = now;
            int pad = Math.max(0, shownWidth - f.length());
            err.print("\r" + f + " ".repeat(pad));
            err.flush();
            shownWidth = f.length();
            shown = true;
        }
    }

    /** Frames drawn so far (for tests). */
    int frames() {
        synchronized (lock) {
            return frames;
        }
    }

    private void erase() {
        if (shown) {
            err.print("\r" + " ".repeat(shownWidth) + "\r");
            shown = false;
            shownWidth = 0;
        }
    }

    /** Stops drawing and erases the line, so the output that follows starts on a clean line. */
    @Override
    public void close() {
        if (!enabled) {
            return;
        }
        Thread t;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            t = ticker;
            erase();
            err.flush();
        }
        Shown.LINES.remove(this);
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
        }
    }

    /**
     * One line of at most {@link #WIDTH} characters: {@code label [####......]  42% 1.2 MiB/3.0 MiB 5.1 MiB/s ETA 0:01}
     * (the bar takes the room the label leaves, {@value #MIN_BAR} to {@value #MAX_BAR} columns; a
     * label too long for the minimum is shortened), {@code label / 3.0 MiB 1.0 MiB/s} without a
     * total, {@code label | 12.3 s} for work without bytes.
     */
    static String frame(String label, long done, long total, Unit unit, long elapsedNanos, int frameNo) {
        double seconds = elapsedNanos / 1e9;
        StringBuilder s = new StringBuilder();
        int bar = 0;
        if (unit == Unit.NONE) {
            s.append(' ').append(SPINNER.charAt(frameNo % SPINNER.length()))
                    .append(String.format(Locale.ROOT, " %.1f s", seconds));
        } else if (total > 0) {
            long d = Math.min(done, total);
            s.append(String.format(Locale.ROOT, " %3d%% %s/%s", (int) (d * 100 / total), bytes(d), bytes(total)));
            if (seconds >= 0.2 && d > 0) {
                double rate = d / seconds;
                s.append(' ').append(bytes((long) rate)).append("/s ETA ").append(clock((long) Math.ceil((total - d) / rate)));
            }
            bar = Math.max(MIN_BAR, Math.min(MAX_BAR, WIDTH - label.length() - s.length() - 3));
            int filled = (int) (d * bar / total);
            s.insert(0, " [" + "#".repeat(filled) + ".".repeat(bar - filled) + "]");
        } else {
            s.append(' ').append(SPINNER.charAt(frameNo % SPINNER.length())).append(' ').append(bytes(done));
            if (seconds >= 0.2 && done > 0) {
                s.append(' ').append(bytes((long) (done / seconds))).append("/s");
            }
        }
        int room = WIDTH - s.length();
        String l = label.length() <= room ? label : room > 3 ? label.substring(0, room - 3) + "..." : "";
        return l + s;
    }

    /** {@code 512 B}, {@code 1.5 KiB}, {@code 12.0 MiB}, {@code 3.2 GiB}. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
    }

    /** {@code 0:07}, {@code 12:34}, {@code 1:02:03}. */
    static String clock(long seconds) {
        long s = Math.max(0, seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
