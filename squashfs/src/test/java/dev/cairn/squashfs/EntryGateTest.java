package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SquashfsWriter#gate}: entries left out are never read, emptied files have no content, directories take their subtree along. */
class EntryGateTest {
    @TempDir
    Path dir;

    /** Content that fails the test when the writer reads it. */
    private static InputStream unreadable() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                throw new AssertionError("content of a gated entry was read");
            }
        };
    }

    private static InputStream text(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void gatedEntriesAreNeverReadAndLeaveNothingBehind() throws Exception {
        Path img = dir.resolve("gated.img");
        List<String> asked = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withTime(7))) {
            w.gate((path, type) -> {
                asked.add(path + " " + Integer.toOctalString(type));
                return switch (path) {
                    case "etc/secret", "var/cache" -> EntryGate.Verdict.SKIP;
                    case "etc/machine-id" -> EntryGate.Verdict.EMPTY;
                    default -> EntryGate.Verdict.ADD;
                };
            });
            w.addDirectory("", EntryMetadata.of(0755, 0, 0, 0));
            w.addDirectory("etc", EntryMetadata.of(0755, 0, 0, 0));
            w.addFile("etc/secret", EntryMetadata.of(0600, 0, 0, 0), unreadable());
            w.addFile("/etc/machine-id", EntryMetadata.of(0644, 0, 0, 0), unreadable());
            w.addFile("etc/hostname", EntryMetadata.of(0644, 0, 0, 0), text("host\n"));
            w.addDirectory("var/cache", EntryMetadata.of(0755, 0, 0, 0));
            w.addFile("var/cache/apt/pkgcache.bin", EntryMetadata.of(0644, 0, 0, 0), unreadable());
            w.addSymlink("var/cache/link", EntryMetadata.of(0777, 0, 0, 0), "x");
            w.addHardLink("etc/secret2", "etc/secret");
            assertThat(w.typeOf("etc/machine-id")).isEqualTo(EntryAttributes.S_IFREG);
            assertThat(w.typeOf("etc")).isEqualTo(EntryAttributes.S_IFDIR);
            assertThat(w.typeOf("var/cache")).isZero();
            SquashfsResult r = w.finish();
            assertThat(r.warnings()).containsExactly("hard link etc/secret2 -> etc/secret left out: its target was left out");
        }
        // entries below a gated directory are not asked about; the root never is
        assertThat(asked).containsExactly("etc 40000", "etc/secret 100000", "etc/machine-id 100000", "etc/hostname 100000",
                "var/cache 40000");
        try (SquashfsImage sq = SquashfsImage.open(img)) {
            List<String> paths = new ArrayList<>();
            sq.walk(e -> paths.add(e.path()));
            assertThat(paths).as("no parent is made for an entry left out").containsExactly("", "etc", "etc/hostname", "etc/machine-id");
            SquashfsEntry id = sq.lookup("etc/machine-id");
            assertThat(id.type()).isEqualTo(SquashfsEntry.Type.FILE);
            try (InputStream in = sq.open(id)) {
                assertThat(in.readAllBytes()).isEmpty();
            }
        }
    }

    @Test
    void onlyRegularFilesCanBeEmptied() throws Exception {
        Path img = dir.resolve("bad.img");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP))) {
            w.gate((path, type) -> EntryGate.Verdict.EMPTY);
            assertThatThrownBy(() -> w.addSymlink("a", EntryMetadata.of(0777, 0, 0, 0), "b"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("not a regular file");
        }
    }
}
