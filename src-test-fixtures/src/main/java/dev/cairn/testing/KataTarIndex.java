package dev.cairn.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/**
 * The oracle for Kata's tardev conversion: {@code kata_tarindex.py}, an independent implementation
 * of the snapshotter's published tarfs index algorithm on Python's own tar reader (Debian's python3).
 */
public final class KataTarIndex {
    private final ToolOracle python;
    private final Path script;

    private KataTarIndex(ToolOracle python, Path script) {
        this.python = python;
        this.script = script;
    }

    /** The oracle, its script unpacked into {@code work}; skips or fails (CI) without python3. */
    public static KataTarIndex require(Path work) throws IOException {
        ToolOracle python = ToolOracle.requireAt(Path.of("/usr/bin/python3"), "python3");
        Path script = work.resolve("kata_tarindex.py");
        try (InputStream in = KataTarIndex.class.getResourceAsStream("kata_tarindex.py")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        return new KataTarIndex(python, script);
    }

    /** The index bytes the snapshotter appends to the (uncompressed) tar {@code tar}, written to {@code out}. */
    public byte[] index(Path tar, Path out) throws IOException {
        python.run(Duration.ofMinutes(5), out.getParent(), List.of(script.toString(), tar.toString(), out.toString()), null).assertExit(0);
        return Files.readAllBytes(out);
    }
}
