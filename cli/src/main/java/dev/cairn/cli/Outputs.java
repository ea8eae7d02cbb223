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
