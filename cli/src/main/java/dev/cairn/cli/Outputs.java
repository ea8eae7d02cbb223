package dev.cairn.cli;

import dev.cairn.io.AtomicOutput;
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
