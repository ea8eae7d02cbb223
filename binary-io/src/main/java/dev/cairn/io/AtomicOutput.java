package dev.cairn.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A file written under a temporary name beside its target and renamed into place only by
 * {@link #commit()}. Closing without committing deletes the temporary file, and a JVM shutdown
 * (Ctrl-C) deletes every temporary file still open, so no half-written artifact is ever left
 * under the target's name.
 *
 * <p>Optionally starts from a copy of the existing target ({@link #openCopying}) for formats that
 * add to an existing file (a hash tree appended after the data).
 */
public final class AtomicOutput implements AutoCloseable {
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();
    /** Scratch directories ({@link #createTempDirectory}) that a shutdown removes with everything in them. */
    private static final Set<Path> PENDING_DIRS = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Path p : PENDING) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort during shutdown
                }
            }
            removeDirectories(PENDING_DIRS);
        }, "cairn-atomic-output-cleanup"));
    }

    /**
     * Removes {@code dirs} with their contents. The thread that fills one may still be writing into
     * it while the JVM shuts down (hooks run beside it), so a directory is first renamed aside (new
     * files under its old path then fail) and removed there, and its path is checked again until it
     * stayed gone for two passes 20 ms apart (at most 50 passes).
     */
    static void removeDirectories(Set<Path> dirs) {
        for (Path d : dirs) {
            // First move it aside in one step: a thread still creating files by path under d then fails
            // at once instead of refilling the directory faster than it can be emptied.
            Path aside = d.resolveSibling(d.getFileName() + ".removing-" + ProcessHandle.current().pid());
            try {
                Files.move(d, aside, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                FileTrees.removeQuietly(aside, false);
            } catch (IOException | RuntimeException e) {
                // not there, or not movable: the passes below remove it in place
            }
            int gone = 0;
            for (int pass = 0; pass < 50 && gone < 2; pass++) {
                if (Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
                    FileTrees.removeQuietly(d, false);
                    gone = 0;
                } else {
                    gone++;
                }
                if (gone < 2) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    private final Path target;
    private final Path temp;
    /** Parent directories this output created, deepest first: removed again (when empty) unless committed. */
    private final List<Path> createdDirs;
    private final FileChannel channel;
    private boolean done;
    private Flusher flusher;

    private AtomicOutput(Path target, Path temp, List<Path> createdDirs) throws IOException {
        this.target = target;
        this.temp = temp;
        this.createdDirs = createdDirs;
        PENDING.add(temp);
        FileChannel ch;
        try {
            ch = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            discard(temp);
            removeCreated(createdDirs);
            throw e;
        }
        this.channel = ch;
    }

    /** A new, empty temporary file beside {@code target}. */
    public static AtomicOutput open(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        List<Path> created = createParents(abs);
        return new AtomicOutput(abs, tempBeside(abs, "rw-r--r--", created), created);
    }

    /** Like {@link #open} for secrets (private keys): the file is readable by its owner only, from the start. */
    public static AtomicOutput openPrivate(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        List<Path> created = createParents(abs);
        return new AtomicOutput(abs, tempBeside(abs, "rw-------", created), created);
    }

    /** Creates the missing parent directories of {@code abs}; returns them, deepest first. */
    private static List<Path> createParents(Path abs) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = abs.getParent(); p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            missing.add(p);
        }
        if (!missing.isEmpty()) {
            // only then: on an existing directory, createDirectories' mkdir fails and it throws and
            // catches two exceptions (a batch of 500 outputs deoptimized the JIT's code 500 times)
            Files.createDirectories(abs.getParent());
        }
        return missing;
    }

    /** Removes directories an uncommitted output created, deepest first, as long as they are empty. */
    private static void removeCreated(List<Path> dirs) {
        for (Path d : dirs) {
            try {
                Files.delete(d);
            } catch (IOException e) {
                return; // not empty (another output, or the user's files) or already gone: leave it and its parents
            }
        }
    }

    /**
     * Creates the temporary file (and missing parent directories), readable by all like a file
     * created under the usual umask 022: artifacts are public, and createTempFile's 0600 would
     * otherwise leak into the result.
     */
    private static Path tempBeside(Path abs, String perms, List<Path> createdDirs) throws IOException {
        Path dir = abs.getParent();
        Path temp = newTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        // registered before anything is written to it: a Ctrl-C from here on removes it
        PENDING.add(temp);
        try {
            Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: keep its defaults
        } catch (IOException | RuntimeException e) {
            discard(temp);
            removeCreated(createdDirs);
            throw e;
        }
        return temp;
    }

    /**
     * A temporary file beside {@code target} that starts as a copy of {@code source} (usually the
     * target itself), for writers that extend an existing file.
     */
    public static AtomicOutput openCopying(Path target, Path source) throws IOException {
        Path abs = target.toAbsolutePath();
        List<Path> created = createParents(abs);
        Path temp = tempBeside(abs, "rw-r--r--", created);
        try {
            Files.copy(source, temp, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            discard(temp);
            removeCreated(created);
            throw e;
        }
        return new AtomicOutput(abs, temp, created);
    }

    /** Deletes a temporary file that never became an AtomicOutput, and forgets it. */
    private static void discard(Path temp) throws IOException {
        try {
            Files.deleteIfExists(temp);
        } finally {
            PENDING.remove(temp);
        }
    }

    /**
     * A new empty temporary file in {@code dir} for a writer that manages it itself (moves it into
     * place or deletes it): until {@link #settled} is called, a JVM shutdown (Ctrl-C) deletes it.
     */
    public static Path createTempFile(Path dir, String prefix, String suffix) throws IOException {
        Path temp = newTempFile(dir, prefix, suffix).toAbsolutePath();
        PENDING.add(temp);
        return temp;
    }

    /** The temporary names' generator, seeded once per process from the kernel's (see {@link #newTempFile}), and their permissions. */
    private static final class TempNames {
        static final java.util.SplittableRandom RANDOM = new java.util.SplittableRandom(seed());
        /** rw------- at creation, as Files.createTempFile makes it (a file system that has no such thing refuses it there). */
        static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY = java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.util.EnumSet.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE));

        private static long seed() {
            byte[] b = Randomness.bytes(8);
            long s = 0;
            for (byte x : b) {
                s = s << 8 | (x & 0xff);
            }
            return s;
        }
    }

    /**
     * What {@link Files#createTempFile(Path, String, String)} does (a new file only its owner may
     * read and write, created exclusively under a name no one else has taken), with a random part
     * of its own: the JDK's comes from a SecureRandom, which sets up the JCA's providers (some 10 ms
     * of a short command). A name that is unpredictable only protects against others taking it
     * first: the exclusive creation is what keeps a planted file or link out.
     */
    private static Path newTempFile(Path dir, String prefix, String suffix) throws IOException {
        Path base = dir == null ? Path.of(System.getProperty("java.io.tmpdir")) : dir;
        for (int attempt = 0; ; attempt++) {
            long r;
            synchronized (TempNames.RANDOM) {
                r = TempNames.RANDOM.nextLong();
            }
            Path candidate = base.resolve(prefix + Long.toUnsignedString(r) + suffix);
            try {
                return Files.createFile(candidate, TempNames.OWNER_ONLY);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            } catch (UnsupportedOperationException e) {
                return Files.createTempFile(dir, prefix, suffix); // a file system without POSIX permissions
            }
        }
    }

    /**
     * A new empty scratch directory in {@code dir} (null: the system's temp directory) for a writer
     * that manages it itself (fills it, then moves it into place or deletes it): until
     * {@link #settled} is called, a JVM shutdown (Ctrl-C) removes it with everything in it.
     */
    public static Path createTempDirectory(Path dir, String prefix) throws IOException {
        Path temp = (dir == null ? Files.createTempDirectory(prefix) : Files.createTempDirectory(dir, prefix)).toAbsolutePath();
        PENDING_DIRS.add(temp);
        return temp;
    }

    /**
     * {@code temp} from {@link #createTempFile} or {@link #createTempDirectory} was moved into place
     * or deleted: shutdown leaves that path alone.
     */
    public static void settled(Path temp) {
        PENDING.remove(temp.toAbsolutePath());
        PENDING_DIRS.remove(temp.toAbsolutePath());
    }

    /** Whether {@code temp} is a temporary file or directory that a JVM shutdown would delete (for tests). */
    static boolean pendingCleanup(Path temp) {
        return PENDING.contains(temp.toAbsolutePath()) || PENDING_DIRS.contains(temp.toAbsolutePath());
    }

    /** The channel to write (and read back) the temporary file through. */
    public FileChannel channel() {
        return channel;
    }

    public Path target() {
        return target;
    }

    public Path tempPath() {
        return temp;
    }

    /**
     * Starts writing the temporary file's data to disk in the background, about once a second,
     * while the caller is still producing it, so that {@link #commit()}'s final flush finds little
     * left to write (for an image of a few hundred MB that flush alone took 0.3-0.5 s at the end
     * of the command). Only worth it for large outputs written over seconds. A flush that fails
     * makes {@link #commit()} fail. Never interrupts anything: an interrupted {@code force} would
     * close the channel.
     */
    public void flushInBackground() {
        if (done) {
            throw new IllegalStateException("already committed or closed: " + target);
        }
        if (flusher == null) {
            flusher = new Flusher(channel, false);
            flusher.start();
        }
    }

    /**
     * Starts writing what the temporary file holds so far to disk now, on a background thread,
     * then about once a second like {@link #flushInBackground()}: for an output whose bulk is
     * written and whose last bytes take a while to compute (a UKI's signature, 40-90 ms in a
     * fresh JVM), so that the flush of the bulk (30 ms for a 70 MB UKI) overlaps that work
     * instead of following it in {@link #commit()}. Does nothing when a background flush runs
     * already.
     */
    public void flushNow() {
        if (done) {
            throw new IllegalStateException("already committed or closed: " + target);
        }
        if (flusher == null) {
            flusher = new Flusher(channel, true);
            flusher.start();
        }
    }

    /** Flushes to disk and renames the temporary file onto the target. */
    public void commit() throws IOException {
        flushForCommit();
        rename();
    }

    /**
     * Flushes the temporary file to disk and closes it, so that a later {@link #commit()} only
     * renames it. Lets a batch pay the (slow) flushes of several outputs on worker threads, where
     * the file system can merge them, and still rename them one by one in order.
     */
    public void flush() throws IOException {
        flushForCommit();
    }

    /**
     * First half of {@link #commit()}: everything that can fail short of the rename (the final
     * flush; the target must not be a directory). Used by {@link AtomicOutputGroup} to finish all
     * its outputs before it renames any.
     */
    void flushForCommit() throws IOException {
        if (done) {
            throw new IllegalStateException("already committed or closed: " + target);
        }
        if (Files.isDirectory(target)) {
            throw new java.nio.file.FileSystemException(target.toString(), null, "is a directory");
        }
        stopFlusher();
        if (channel.isOpen()) {
            channel.force(true);
            channel.close();
        }
    }

    /** Second half of {@link #commit()}: the rename. */
    void rename() throws IOException {
        if (done) {
            throw new IllegalStateException("already committed or closed: " + target);
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        PENDING.remove(temp);
        done = true;
    }

    /** Deletes the temporary file unless {@link #commit()} succeeded. */
    @Override
    public void close() throws IOException {
        if (done) {
            return;
        }
        done = true;
        try {
            stopFlusher();
        } catch (IOException ignored) {
            // the output is being thrown away
        }
        try {
            channel.close();
        } finally {
            Files.deleteIfExists(temp);
            PENDING.remove(temp);
            removeCreated(createdDirs);
        }
    }

    /** Stops the background flush (waiting for one in progress) and rethrows its failure, if any. */
    private void stopFlusher() throws IOException {
        Flusher f = flusher;
        flusher = null;
        if (f != null) {
            f.finish();
        }
    }

    /** Calls {@code force(false)} (first at once, when asked) then about once a second until {@link #finish()}. */
    private static final class Flusher extends Thread {
        private final FileChannel channel;
        private final java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
        private volatile IOException failure;

        private final boolean immediately;

        Flusher(FileChannel channel, boolean immediately) {
            super("cairn-flush");
            this.channel = channel;
            this.immediately = immediately;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                if (immediately) {
                    channel.force(false);
                }
                while (!stop.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
                    channel.force(false);
                }
            } catch (IOException e) {
                failure = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void finish() throws IOException {
            stop.countDown();
            Futures.joinUninterruptibly(this);
            if (failure != null) {
                throw new IOException("flushing the output to disk failed: " + failure.getMessage(), failure);
            }
        }
    }
}
