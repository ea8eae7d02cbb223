package dev.cairn.pipeline.sysext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.squashfs.Compression;
import dev.cairn.squashfs.EntryMetadata;
import dev.cairn.squashfs.SquashfsImage;
import dev.cairn.squashfs.SquashfsOptions;
import dev.cairn.squashfs.SquashfsWriter;
import java.io.ByteArrayInputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** os-release(5) parsing, and finding the file in a root filesystem's SquashFS as a build does for extension defaults. */
class OsReleaseTest {
    @TempDir
    Path dir;

    interface Tree {
        void fill(SquashfsWriter w) throws Exception;
    }

    SquashfsImage image(String name, Tree t) throws Exception {
        Path img = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withTime(0))) {
            t.fill(w);
            w.finish();
        }
        return SquashfsImage.open(img);
    }

    static EntryMetadata meta(int mode) {
        return EntryMetadata.of(mode, 0, 0, 0);
    }

    static ByteArrayInputStream text(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parsesQuotedAndPlainValuesSkippingComments() {
        var m = OsRelease.parse(("# comment\n\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME='Debian'\nVERSION_ID=\"12\"\n"
                + "ID=debian\nnot an assignment\nESC=\"a\\\"b\"\n").getBytes(StandardCharsets.UTF_8));
        assertThat(m).containsEntry("ID", "debian").containsEntry("VERSION_ID", "12").containsEntry("NAME", "Debian")
                .containsEntry("PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)").containsEntry("ESC", "a\"b").hasSize(5);
    }

    @Test
    void resolvesLinksInsideTheImageOnly() {
        assertThat(OsRelease.resolve("etc/os-release", "../usr/lib/os-release")).isEqualTo("usr/lib/os-release");
        assertThat(OsRelease.resolve("etc/os-release", "/usr/lib/os-release")).isEqualTo("usr/lib/os-release");
        assertThat(OsRelease.resolve("etc/os-release", "../../../x")).isNull();
    }

    @Test
    void debiansSymlinkIsFollowedAndEtcWins() throws Exception {
        try (SquashfsImage debian = image("debian.sqfs", w -> {
            w.addFile("usr/lib/os-release", meta(0644), text("ID=debian\nVERSION_ID=\"12\"\n"));
            w.addSymlink("etc/os-release", meta(0777), "../usr/lib/os-release");
        })) {
            OsRelease r = OsRelease.read(debian);
            assertThat(r.path()).isEqualTo("usr/lib/os-release");
            assertThat(r.get("ID")).isEqualTo("debian");
            assertThat(r.get("VERSION_ID")).isEqualTo("12");
        }
        try (SquashfsImage both = image("both.sqfs", w -> {
            w.addFile("etc/os-release", meta(0644), text("ID=etc\n"));
            w.addFile("usr/lib/os-release", meta(0644), text("ID=usr\n"));
        })) {
            assertThat(OsRelease.read(both).get("ID")).isEqualTo("etc");
        }
    }

    @Test
    void hostileTreesGiveNoneOrAClearError() throws Exception {
        // a symlink loop and a link out of the image: no os-release at that path; the next one is used, else none
        try (SquashfsImage loop = image("loop.sqfs", w -> {
            w.addSymlink("etc/os-release", meta(0777), "os-release");
            w.addSymlink("usr/lib/os-release", meta(0777), "../../../../host/os-release");
        })) {
            assertThat(OsRelease.read(loop)).isNull();
        }
        try (SquashfsImage dirs = image("dirs.sqfs", w -> {
            w.addDirectory("etc/os-release", meta(0755));
            w.addFile("usr/lib/os-release", meta(0644), text("ID=fallback\n"));
        })) {
            assertThat(OsRelease.read(dirs).get("ID")).isEqualTo("fallback");
        }
        try (SquashfsImage none = image("none.sqfs", w -> w.addFile("etc/hostname", meta(0644), text("x\n")))) {
            assertThat(OsRelease.read(none)).isNull();
        }
        try (SquashfsImage big = image("big.sqfs", w -> w.addFile("etc/os-release", meta(0644),
                new ByteArrayInputStream(new byte[OsRelease.MAX_BYTES + 1])))) {
            assertThatThrownBy(() -> OsRelease.read(big)).hasMessageContaining("not an os-release file");
        }
    }
}
