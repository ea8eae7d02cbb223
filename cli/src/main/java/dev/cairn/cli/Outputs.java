package dev.cairn.cli;

import dev.cairn.io.AtomicOutput;
import dev.cairn.io.AtomicOutputGroup;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** Small command outputs (signatures, root-hash files), written atomically; a failure is exit 6. */
public final class Outputs {
    private Outputs() {
    }

    public static void write(Path file, byte[] bytes) {
        write(file, bytes, false);
    }

    /** Writes a secret (a private key): owner-only permissions from the first byte. */
    public static void writePrivate(Path file, byte[] bytes) {
        write(file, bytes, true);
    }

    /**
     * Writes {@code bytes} as a new output of {@code outputs}, to be committed with the others
     * ({@link #commit}); nothing appears under {@code file} before then.
     */
    public static void write(AtomicOutputGroup outputs, Path file, byte[] bytes) {
        try {
            outputs.write(file, bytes);
        } catch (IOException e) {
            throw new OutputFailure("cannot write " + file, e);
        }
    }

    /** Like {@link #write(AtomicOutputGroup, Path, byte[])} for a secret (a private key). */
    public static void writePrivate(AtomicOutputGroup outputs, Path file, byte[] bytes) {
        try {
            outputs.writePrivate(file, bytes);
        } catch (IOException e) {
            throw new OutputFailure("cannot write " + file, e);
        }
    }

    /** Commits every output of {@code outputs} together (see {@link AtomicOutputGroup#commit()}). */
    public static void commit(AtomicOutputGroup outputs) {
        try {
            outputs.commit();
        } catch (IOException e) {
            throw new OutputFailure("cannot write the outputs", e);
        }
    }

    /**
     * Writes {@code bytes} under a temporary name beside {@code file} but does not rename it:
     * {@link #commit} puts it in place (flushing it first unless {@link #flush} did),
     * {@link AtomicOutput#close()} throws it away. For batches, whose flushes run in parallel and
     * renames in order.
     */
    public static AtomicOutput prepare(Path file, byte[] bytes) {
        AtomicOutput o = null;
        try {
            o = AtomicOutput.open(file);
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                o.channel().write(b);
            }
            return o;
        } catch (IOException e) {
            closeQuietly(o);
            throw new OutputFailure("cannot write " + file, e);
        } catch (RuntimeException e) {
            closeQuietly(o);
            throw e;
        }
    }

    /** Flushes a {@link #prepare}d output to disk. */
    public static void flush(AtomicOutput prepared, Path file) {
        try {
            prepared.flush();
        } catch (IOException e) {
            throw new OutputFailure("cannot write " + file, e);
        }
    }

    /** Renames a {@link #prepare}d output into place. */
    public static void commit(AtomicOutput prepared, Path file) {
        try {
            prepared.commit();
        } catch (IOException e) {
            throw new OutputFailure("cannot write " + file, e);
        }
    }

    private static void closeQuietly(AtomicOutput o) {
        if (o != null) {
            try {
                o.close();
            } catch (IOException ignored) {
                // the output is being thrown away; the first failure is the one reported
            }
        }
    }

    private static void write(Path file, byte[] bytes, boolean secret) {
        try (AtomicOutput o = secret ? AtomicOutput.openPrivate(file) : AtomicOutput.open(file)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                o.channel().write(b);
            }
            o.commit();
        } catch (IOException e) {
            throw new OutputFailure("cannot write " + file, e);
        }
    }
}
