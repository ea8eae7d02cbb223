package dev.cairn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Several {@link AtomicOutput}s that are committed together, for commands that write more than
 * one file: every output is written to its temporary file first, {@link #commit()} then flushes
 * all of them and checks every target before renaming any, and {@link #close()} deletes every
 * temporary file not committed. A failure while producing any output therefore leaves none of
 * them written or replaced.
 *
 * <p>The renames themselves are separate system calls: should one of them fail after the checks
 * (a file system that stops accepting renames halfway), the outputs renamed before it stay, and
 * the exception says which.
 */
public final class AtomicOutputGroup implements AutoCloseable {
    private final List<AtomicOutput> outputs = new ArrayList<>();
    private boolean done;

    /** A new output in this group (see {@link AtomicOutput#open}). */
    public AtomicOutput open(Path target) throws IOException {
        return add(AtomicOutput.open(target));
    }

    /** A new owner-only output in this group (see {@link AtomicOutput#openPrivate}). */
    public AtomicOutput openPrivate(Path target) throws IOException {
        return add(AtomicOutput.openPrivate(target));
    }

    /** A new output in this group starting as a copy of {@code source} (see {@link AtomicOutput#openCopying}). */
    public AtomicOutput openCopying(Path target, Path source) throws IOException {
        return add(AtomicOutput.openCopying(target, source));
    }

    /** Writes {@code bytes} as the whole content of a new output in this group. */
    public void write(Path target, byte[] bytes) throws IOException {
        writeFully(open(target), bytes);
    }

    /** Like {@link #write} for secrets: the file is readable by its owner only. */
    public void writePrivate(Path target, byte[] bytes) throws IOException {
        writeFully(openPrivate(target), bytes);
    }

    private static void writeFully(AtomicOutput o, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            o.channel().write(b);
        }
    }

    private AtomicOutput add(AtomicOutput o) throws IOException {
        if (done) {
            o.close();
            throw new IllegalStateException("output group already committed or closed");
        }
        outputs.add(o);
        return o;
    }

    /**
     * Flushes every output and checks every target, then renames them all into place, in the
     * order they were opened.
     */
    public void commit() throws IOException {
        if (done) {
            throw new IllegalStateException("output group already committed or closed");
        }
        for (AtomicOutput o : outputs) {
            o.flushForCommit();
        }
        done = true;
        List<Path> renamed = new ArrayList<>();
        for (AtomicOutput o : outputs) {
            try {
                o.rename();
            } catch (IOException e) {
                if (!renamed.isEmpty()) {
                    e.addSuppressed(new IOException("already written before this failure: " + renamed));
                }
                throw e;
            }
            renamed.add(o.target());
        }
    }

    /** Deletes the temporary file of every output not committed. */
    @Override
    public void close() throws IOException {
        done = true;
        IOException first = null;
        for (int i = outputs.size() - 1; i >= 0; i--) { // newest first: a directory an earlier one made is empty by then
            AtomicOutput o = outputs.get(i);
            try {
                o.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
