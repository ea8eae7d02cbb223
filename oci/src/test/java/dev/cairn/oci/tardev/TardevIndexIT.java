package dev.cairn.oci.tardev;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cairn's tarfs index against an independent implementation of Kata's published algorithm
 * (Python's tar reader, {@code kata_tarindex.py}): the same bytes for every layer of the corpus.
 */
class TardevIndexIT {
    @TempDir
    Path dir;

    @Test
    void sameIndexAsTheIndependentImplementation() throws Exception {
        ToolOracle python = ToolOracle.requireAt(Path.of("/usr/bin/python3"), "python3");
        Path script = dir.resolve("kata_tarindex.py");
        try (InputStream in = TardevIndexIT.class.getResourceAsStream("/tardev/kata_tarindex.py")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        for (boolean posix : new boolean[] {false, true}) {
            Path tar = TardevCorpus.full(dir.resolve(posix ? "pax.tar" : "gnu.tar"), posix);
            TarfsIndex.Result r;
            try (FileChannel ch = FileChannel.open(tar)) {
                r = TarfsIndex.build(ch);
            }
            Path expected = dir.resolve(posix ? "pax.index" : "gnu.index");
            python.run(Duration.ofMinutes(2), dir, List.of(script.toString(), tar.toString(), expected.toString()), null).assertExit(0);
            assertThat(r.index()).as(posix ? "PAX layer" : "GNU layer").isEqualTo(Files.readAllBytes(expected));
            assertThat(r.layerSize() % 4096).isZero();
            assertThat(r.skipped()).anyMatch(s -> s.startsWith("../escape"));
        }
    }
}
