package dev.cairn.pipeline;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * Holds an output directory (and with it its step cache) for one build at a time: an exclusive
 * {@code fcntl} lock on {@code OUT/.cairn-lock}, which the kernel drops when the holding process
 * ends, however it ends (a SIGKILL leaves no stale lock). Builds in one JVM (a Maven reactor's
 * threads) are serialised by the same rule. The file names its holder (process id, start) for the
 * message the next build shows while it waits, or fails with under {@code --no-wait}; it stays in
 * place between builds, as the lock is on the file, not on its existence.
 */
final class OutputLock implements AutoCloseable {
    static final String FILE = ".cairn-lock";
    /**
     * Builds of this JVM note the directories they hold in a system property named by this prefix
     * and the directory's real path, and wait on that name's interned string: both are one per JVM,
     * whatever class loader loaded this class (a Maven build loads each plugin in its own). They must
     * be consulted before the lock file is opened: closing any descriptor of a file drops every
     * fcntl lock this process holds on it.
     */
    static final String HELD_PREFIX = "dev.cairn.pipeline.OutputLock.held:";

    private final String key;
    private final FileChannel channel;

    private OutputLock(String key, FileChannel channel) {
        this.key = key;
        this.channel = channel;
    }

    /**
     * Takes {@code out}'s lock. With {@code wait}, blocks until the holder finishes (telling the
     * listener once); without, fails at once naming the holder.
     */
    static OutputLock acquire(Path out, boolean wait, BuildListener listener) throws IOException {
        Files.createDirectories(out);
        Path dir = out.toRealPath();
        Path file = dir.resolve(FILE);
        String key = (HELD_PREFIX + dir).intern();
        synchronized (key) {
            boolean told = false;
            while (System.getProperty(key) != null) {
                if (!wait) {
                    throw busy(dir, "another build in this process");
                }
                if (!told) {
                    listener.info("waiting for another build in this process to finish with " + dir);
                    told = true;
                }
                try {
                    key.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PipelineException(PipelineException.Kind.IO, "interrupted while waiting for the lock on " + dir, e);
                }
            }
            System.setProperty(key, "held");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock == null) {
                String holder = holder(file);
                if (!wait) {
                    throw busy(dir, holder);
                }
                listener.info("waiting for " + holder + " to finish with " + dir + " (--no-wait fails at once instead)");
                ch.lock();
            }
            byte[] me = ("pid " + ProcessHandle.current().pid() + ", started " + Instant.now() + "\n").getBytes(StandardCharsets.US_ASCII);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(me), 0);
            return new OutputLock(key, ch);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            release(key);
            throw e;
        }
    }

    private static PipelineException busy(Path dir, String holder) {
        return new PipelineException(PipelineException.Kind.IO, dir + " is locked by " + holder + " (" + dir.resolve(FILE)
                + "): another build is writing it; rerun without --no-wait to wait for it");
    }

    /** "cairn build (pid N, started T)" from the lock file; the file is small and only informative. */
    private static String holder(Path file) {
        try {
            byte[] b = Files.readAllBytes(file);
            String s = new String(b, 0, Math.min(b.length, 200), StandardCharsets.US_ASCII).strip();
            if (s.matches("pid \\d+, started [0-9TZ:.\\-]+")) {
                return "cairn build (" + s + ")";
            }
        } catch (IOException e) {
            // fall through: the holder is unknown, the lock is still real
        }
        return "another cairn build";
    }

    private static void release(String key) {
        synchronized (key) {
            System.clearProperty(key);
            key.notifyAll();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close(); // drops the fcntl lock
        } finally {
            release(key);
        }
    }
}
