package dev.cairn.oci.tardev;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.KataTarIndex;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
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
        KataTarIndex oracle = KataTarIndex.require(dir);
        for (boolean posix : new boolean[] {false, true}) {
            Path tar = TardevCorpus.full(dir.resolve(posix ? "pax.tar" : "gnu.tar"), posix);
            TarfsIndex.Result r;
            try (FileChannel ch = FileChannel.open(tar)) {
                r = TarfsIndex.build(ch);
            }
            byte[] expected = oracle.index(tar, dir.resolve(posix ? "pax.index" : "gnu.index"));
            assertThat(r.index()).as(posix ? "PAX layer" : "GNU layer").isEqualTo(expected);
            assertThat(r.layerSize() % 4096).isZero();
            assertThat(r.skipped()).anyMatch(s -> s.startsWith("../escape"));
        }
    }
}
