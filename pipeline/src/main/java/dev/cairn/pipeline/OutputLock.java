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
import java.util.HashSet;
import java.util.Set;

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
    /** Directories held by builds of this JVM (a file lock cannot tell them apart). */
    private static final Set<Path> HELD_HERE = new HashSet<>();

    private final Path dir;
    private final FileChannel channel;

    private OutputLock(Path dir, FileChannel channel) {
        this.dir = dir;
        this.channel = channel;
    }

    /**
     * Takes {@code out}'s lock. With {@code wait}, blocks until the holder finishes (telling the
     * listener once); without, fails at once naming the holder.
     */
    static OutputLock acquire(Path out, boolean wait, BuildListener listener) throws IOException {
        Path dir = out.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        synchronized (HELD_HERE) {
            boolean told = false;
            while (HELD_HERE.contains(dir)) {
                if (!wait) {
                    throw busy(dir, "another build in this process");
                }
                if (!told) {
                    listener.info("waiting for another build in this process to finish with " + dir);
                    told = true;
                }
                try {
                    HELD_HERE.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PipelineException(PipelineException.Kind.IO, "interrupted while waiting for the lock on " + dir, e);
                }
            }
            HELD_HERE.add(dir);
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
            return new OutputLock(dir, ch);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            release(dir);
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

    private static void release(Path dir) {
        synchronized (HELD_HERE) {
            HELD_HERE.remove(dir);
            HELD_HERE.notifyAll();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close(); // drops the fcntl lock
        } finally {
            release(dir);
        }
    }
}
