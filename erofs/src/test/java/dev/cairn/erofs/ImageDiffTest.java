package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The oracle IT's mismatch report names the structure a differing byte belongs to. */
class ImageDiffTest {
    @Test
    void namesTheStructureOfTheFirstDifference(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("i.erofs");
        ErofsTarWriter.write(new ByteArrayInputStream(TarCorpus.all().get("hardlinks")), out,
                ErofsOptions.of(UUID.randomUUID(), 0));
        byte[] a = Files.readAllBytes(out);
        assertThat(ImageDiff.describe(a, a.clone())).isEqualTo("identical");
        byte[] b = a.clone();
        b[1024 + 0x24] ^= 1;
        assertThat(ImageDiff.describe(a, b)).contains("offset 1060").contains("superblock field blocks");
        byte[] c = a.clone();
        c[1152 + 4] ^= 1; // the root inode's mode
        assertThat(ImageDiff.describe(a, c)).contains("inode nid 36 /");
        byte[] d = a.clone();
        d[4096] ^= 1; // first data block: d/orig's content (also reachable as /link2 and /d/link1)
        assertThat(ImageDiff.describe(a, d)).containsPattern("data of /(link2|d/orig|d/link1) \\(\\+0\\)");
        assertThat(ImageDiff.describe(a, java.util.Arrays.copyOf(a, a.length + 1))).contains("sizes differ");
    }
}
