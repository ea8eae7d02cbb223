package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deterministic tar layers: sorted, normalised, diff_id = digest of the uncompressed tar. */
class TarLayerWriterTest {
    @TempDir
    Path dir;

    Path tree(String name, boolean reverse) throws IOException {
        Path t = dir.resolve(name);
        List<String> files = new ArrayList<>(List.of("b/z", "a", "b/ä", "B", "b/c/long-" + "x".repeat(120)));
        if (reverse) {
            java.util.Collections.reverse(files);
        }
        for (String f : files) {
            Path p = t.resolve(f);
            Files.createDirectories(p.getParent());
            Files.writeString(p, f + "\n");
        }
        Files.setPosixFilePermissions(t.resolve("a"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.createSymbolicLink(t.resolve("link"), Path.of("a"));
        Files.setLastModifiedTime(t.resolve("a"), java.nio.file.attribute.FileTime.fromMillis(reverse ? 5000 : 9000));
        return t;
    }

    @Test
    void sameTreeGivesSameBytesWhateverTheCreationOrderAndTimes() throws IOException {
        for (TarLayerWriter.Compression c : TarLayerWriter.Compression.values()) {
            OciLayout l1 = OciLayout.openOrCreate(dir.resolve("l1-" + c));
            OciLayout l2 = OciLayout.openOrCreate(dir.resolve("l2-" + c));
            TarLayerWriter.TarLayer a = TarLayerWriter.fromDirectory(l1, tree("t1-" + c, false), c, 0, w -> { });
            TarLayerWriter.TarLayer b = TarLayerWriter.fromDirectory(l2, tree("t2-" + c, true), c, 0, w -> { });
            assertThat(a.descriptor()).as(c.name()).isEqualTo(b.descriptor());
            assertThat(a.descriptor().mediaType()).isEqualTo(c.mediaType());
            byte[] blob = Files.readAllBytes(l1.blobPath(a.descriptor().digest()));
            assertThat(Digest.ofBytes(blob)).isEqualTo(a.descriptor().digest());
            byte[] tar;
            try (InputStream in = TarLayerWriter.decompress(new java.io.BufferedInputStream(Files.newInputStream(l1.blobPath(a.descriptor().digest()))))) {
                tar = in.readAllBytes();
            }
            assertThat(Digest.ofBytes(tar)).as("diff_id").isEqualTo(a.diffId());
            assertThat(tar.length).isEqualTo(a.uncompressedSize());
            if (c == TarLayerWriter.Compression.GZIP) {
                assertThat(blob[4] | blob[5] | blob[6] | blob[7]).as("gzip MTIME").isZero();
            }
        }
    }

    @Test
    void entriesAreSortedByUtf8BytesWithRootOwnerAndFixedTime() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        TarLayerWriter.TarLayer t = TarLayerWriter.fromDirectory(l, tree("t", false), TarLayerWriter.Compression.NONE, 1700000000L, w -> { });
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(l.blobPath(t.descriptor().digest())))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                names.add(e.getName());
                assertThat(e.getLongUserId()).isZero();
                assertThat(e.getLongGroupId()).isZero();
                assertThat(e.getModTime().getTime()).isEqualTo(1700000000_000L);
                if (e.getName().equals("a")) {
                    assertThat(e.getMode() & 07777).isEqualTo(0750);
                    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("a\n");
                }
                if (e.getName().equals("link")) {
                    assertThat(e.getLinkName()).isEqualTo("a");
                }
            }
        }
        assertThat(names).containsExactly("B", "a", "b/", "b/c/", "b/c/long-" + "x".repeat(120), "b/z", "b/ä", "link");
        assertThat(t.entries()).isEqualTo(8);
    }

    @Test
    void tarInputIsNormalisedInItsOwnOrder() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        TarLayerWriter.TarLayer plain = TarLayerWriter.fromDirectory(l, tree("t", false), TarLayerWriter.Compression.ZSTD, 0, w -> { });
        Path tarFile = dir.resolve("in.tar.zst");
        Files.copy(l.blobPath(plain.descriptor().digest()), tarFile);
        TarLayerWriter.TarLayer again = TarLayerWriter.fromTar(l, tarFile, TarLayerWriter.Compression.ZSTD, 0);
        assertThat(again.diffId()).isEqualTo(plain.diffId());
        assertThat(again.descriptor()).isEqualTo(plain.descriptor());
    }
    @Test
    void aLayoutInsideTheTreeIsNotPartOfItsLayer() throws IOException {
        Path t = tree("t", false);
        OciLayout inside = OciLayout.openOrCreate(t.resolve("b/layout"));
        TarLayerWriter.TarLayer layer = TarLayerWriter.fromDirectory(inside, t, TarLayerWriter.Compression.NONE, 0, w -> { });
        OciLayout outside = OciLayout.openOrCreate(dir.resolve("elsewhere"));
        Files.walk(t.resolve("b/layout")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        TarLayerWriter.TarLayer same = TarLayerWriter.fromDirectory(outside, t, TarLayerWriter.Compression.NONE, 0, w -> { });
        assertThat(layer.diffId()).isEqualTo(same.diffId());
        assertThat(layer.entries()).isEqualTo(8);
    }
}
