package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TarSource#addLayer}: OCI layers flattened with whiteouts, opaque directories, replacement and hard links. */
class TarLayerTest {
    @TempDir
    Path dir;

    /** A tar layer built entry by entry: "d NAME", "f NAME CONTENT", "l NAME TARGET" (symlink), "h NAME TARGET" (hard link). */
    private static byte[] tar(boolean gzip, String... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var out = gzip ? new GzipCompressorOutputStream(bytes) : bytes;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String spec : entries) {
                String[] p = spec.split(" ", 3);
                TarArchiveEntry e;
                byte[] content = new byte[0];
                switch (p[0]) {
                    case "d" -> {
                        e = new TarArchiveEntry(p[1] + "/");
                        e.setMode(040755);
                    }
                    case "f" -> {
                        e = new TarArchiveEntry(p[1]);
                        content = (p.length > 2 ? p[2] : "").getBytes(StandardCharsets.UTF_8);
                        e.setSize(content.length);
                        e.setMode(0100644);
                    }
                    case "l" -> {
                        e = new TarArchiveEntry(p[1], TarConstants.LF_SYMLINK);
                        e.setLinkName(p[2]);
                    }
                    case "h" -> {
                        e = new TarArchiveEntry(p[1], TarConstants.LF_LINK);
                        e.setLinkName(p[2]);
                    }
                    default -> throw new IllegalArgumentException(spec);
                }
                e.setModTime(1_000_000L);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private Path flatten(byte[]... layers) throws IOException {
        Path img = dir.resolve("flat-" + System.nanoTime() + ".sqfs");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withSourceDateEpoch(0L))) {
            for (byte[] layer : layers) {
                TarSource.addLayer(new ByteArrayInputStream(layer), w, new SourceFilter(List.of(), null, null));
            }
            w.finish();
        }
        return img;
    }

    /** path → "d" | "f:CONTENT" | "l:TARGET" for every entry but the root. */
    private static Map<String, String> contents(Path img) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (SquashfsImage image = SquashfsImage.open(img)) {
            image.walk(e -> {
                if (e.path().isEmpty()) {
                    return;
                }
                out.put(e.path(), switch (e.type()) {
                    case DIRECTORY -> "d";
                    case FILE -> "f:" + new String(image.open(e).readAllBytes(), StandardCharsets.UTF_8);
                    case SYMLINK -> "l:" + e.target();
                    default -> e.type().name();
                });
            });
        }
        return out;
    }

    @Test
    void whiteoutDeletesAnEntryAndEverythingBelowItAndIsNotStored() throws IOException {
        byte[] lower = tar(false, "d etc", "f etc/keep k", "f etc/gone g", "d opt", "d opt/app", "f opt/app/bin b", "d opt/app/lib",
                "f opt/app/lib/x x", "f opt/other o");
        byte[] upper = tar(true, "f etc/.wh.gone", "f opt/.wh.app", "f .wh.nothing-there");
        assertThat(contents(flatten(lower, upper))).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                "etc", "d", "etc/keep", "f:k", "opt", "d", "opt/other", "f:o")));
    }

    @Test
    void opaqueDirectoryDropsLowerContentsButKeepsThisLayersEntriesWhereverTheyAre() throws IOException {
        byte[] lower = tar(false, "d var", "f var/old o", "d var/sub", "f var/sub/deep d", "d var/kept", "f var/kept/lower l",
                "d srv", "f srv/merged m");
        // this layer's own var/early precedes the marker and var/kept/new implies var/kept without an entry of its own
        byte[] upper = tar(false, "d var", "f var/early e", "f var/kept/new n", "f var/.wh..wh..opq", "f var/late l2",
                "d srv", "f srv/added a");
        assertThat(contents(flatten(lower, upper))).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                "var", "d", "var/early", "f:e", "var/kept", "d", "var/kept/new", "f:n", "var/late", "f:l2",
                "srv", "d", "srv/merged", "f:m", "srv/added", "f:a")));
    }

    @Test
    void upperEntriesReplaceLowerOnesFileOverDirectoryAndDirectoryOverFile() throws IOException {
        byte[] lower = tar(false, "d a", "f a/inner i", "f b bee", "f c old", "l link x");
        byte[] upper = tar(false, "f a now-a-file", "d b", "f b/inside in", "f c new", "f link no-longer-a-link");
        assertThat(contents(flatten(lower, upper))).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                "a", "f:now-a-file", "b", "d", "b/inside", "f:in", "c", "f:new", "link", "f:no-longer-a-link")));
    }

    @Test
    void whiteoutThenRecreateInTheSameLayerKeepsTheNewEntry() throws IOException {
        byte[] lower = tar(false, "d d", "f d/x lower");
        byte[] upper = tar(false, "f d/x upper", "f d/.wh.x");
        assertThat(contents(flatten(lower, upper))).containsEntry("d/x", "f:upper");
    }

    @Test
    void hardLinksWithinALayerShareOneInode() throws IOException {
        byte[] lower = tar(false, "d bin", "f bin/tool old");
        byte[] upper = tar(false, "f bin/tool new-tool", "h bin/alias bin/tool", "h bin/again ./bin/tool");
        Path img = flatten(lower, upper);
        assertThat(contents(img)).containsEntry("bin/alias", "f:new-tool").containsEntry("bin/again", "f:new-tool");
        try (SquashfsImage image = SquashfsImage.open(img)) {
            SquashfsEntry tool = image.lookup("bin/tool");
            SquashfsEntry alias = image.lookup("bin/alias");
            assertThat(alias.inodeNumber()).isEqualTo(tool.inodeNumber());
            assertThat(tool.nlink()).isEqualTo(3);
        }
    }

    @Test
    void pathTraversalIsRefused() throws IOException {
        byte[] lower = tar(false, "d a", "f a/x x");
        assertThatThrownBy(() -> flatten(lower, tar(false, "f a/../../escape e"))).isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> flatten(lower, tar(false, "f a/.wh...")))
                .isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> flatten(lower, tar(false, "h a/y ../etc/shadow"))).isInstanceOf(FormatException.class);
    }

    @Test
    void aufsBookkeepingNamesAreSkipped() throws IOException {
        byte[] layer = tar(false, "d .wh..wh.plnk", "f .wh..wh.aufs x", "f real r");
        assertThat(contents(flatten(layer)).keySet()).isEqualTo(new java.util.TreeSet<>(List.of("real")));
    }
}
