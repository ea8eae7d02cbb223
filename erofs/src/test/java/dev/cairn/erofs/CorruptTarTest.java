package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupt-input regressions: tars of the corpus with bytes flipped in their headers either convert or
 * fail with an {@link IOException} (a FormatException naming the offset, or an EOF) — never with a
 * runtime exception, a hang or a partial output file.
 */
class CorruptTarTest {
    @Test
    void flippedHeaderBytesFailCleanly(@TempDir Path dir) throws IOException {
        flippedHeaderBytes(dir, false);
    }

    @Test
    void flippedHeaderBytesFailCleanlyInTarIndexLayers(@TempDir Path dir) throws IOException {
        flippedHeaderBytes(dir, true);
    }

    private static void flippedHeaderBytes(Path dir, boolean tarIndex) throws IOException {
        Random r = new Random(22);
        List<String> failures = new ArrayList<>();
        int converted = 0;
        int refused = 0;
        List<Map.Entry<String, byte[]>> cases = new ArrayList<>(TarCorpus.all().entrySet());
        for (int i = 0; i < 400; i++) {
            Map.Entry<String, byte[]> c = cases.get(r.nextInt(cases.size()));
            byte[] tar = c.getValue().clone();
            int headers = tar.length / 512;
            for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) {
                int block = r.nextInt(Math.min(headers, 8));
                int off = block * 512 + r.nextInt(512);
                tar[off] = (byte) r.nextInt(256);
            }
            Path out = dir.resolve("c" + i + ".erofs");
            try {
                ErofsOptions o = ErofsOptions.of(UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), 0);
                if (tarIndex) {
                    ErofsTarWriter.writeTarIndexLayer(new ByteArrayInputStream(tar), out, o.withTarIndex(true));
                } else {
                    ErofsTarWriter.write(new ByteArrayInputStream(tar), out, o);
                }
                converted++;
                Files.delete(out);
            } catch (IOException e) {
                refused++;
                if (Files.exists(out)) {
                    failures.add(c.getKey() + "#" + i + ": output left behind after " + e);
                }
            } catch (RuntimeException e) {
                failures.add(c.getKey() + "#" + i + ": " + e);
            }
        }
        assertThat(failures).isEmpty();
        assertThat(converted).as("some corruptions are harmless (e.g. in a name)").isPositive();
        assertThat(refused).as("most are refused").isPositive();
        try (var s = Files.list(dir)) {
            assertThat(s).as("no temporary files left").isEmpty();
        }
    }
}
