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
        try (AtomicOutput o = AtomicOutput.open(file)) {
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
