package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's contract without an oracle: determinism, the superblock, containerd's UUID, refusals. */
class ErofsTarWriterTest {
    static final ErofsOptions OPTS = ErofsOptions.of(UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), 0);

    @TempDir
    Path dir;

    byte[] image(byte[] tar) throws IOException {
        Path out = dir.resolve("x-" + System.nanoTime() + ".erofs");
        ErofsTarWriter.write(new ByteArrayInputStream(tar), out, OPTS);
        return Files.readAllBytes(out);
    }

    @Test
    void containerdsUuidIsUuidV5OfTheLayerDigest() {
        // python3: uuid.uuid5(uuid.NAMESPACE_URL, "erofs:blobs/sha256:" + "ab" * 32)
        assertThat(ErofsOptions.containerd("sha256:" + "ab".repeat(32)).uuid())
                .isEqualTo(UUID.fromString("4b8fab57-5a30-54e4-b810-df90b06c6170"));
        assertThat(ErofsOptions.containerd("sha256:" + "ab".repeat(32)).buildTime()).isZero();
    }

    @Test
    void theSameTarGivesTheSameBytes() throws IOException {
        byte[] tar = TarCorpus.randomLayer(7);
        assertThat(image(tar)).isEqualTo(image(tar));
    }

    @Test
    void theSuperblockDescribesTheImage() throws IOException {
        Path out = dir.resolve("one.erofs");
        ErofsResult r = ErofsTarWriter.write(new ByteArrayInputStream(TarCorpus.all().get("large-file")), out, OPTS);
        byte[] img = Files.readAllBytes(out);
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(1024)).isEqualTo(0xE0F5E1E2);
        assertThat(img.length).isEqualTo(r.size()).isEqualTo(4096L * (b.getInt(1024 + 0x24) & 0xFFFFFFFFL));
        assertThat(b.getLong(1024 + 0x10)).isEqualTo(r.inodes()).isEqualTo(5); // root + 4 files
        assertThat(b.getShort(1024 + 0x0E)).isEqualTo((short) r.rootNid()).isEqualTo((short) 36);
        long stored = b.getInt(1024 + 4) & 0xFFFFFFFFL;
        b.putInt(1024 + 4, 0);
        assertThat(Superblock.checksum(img, 1024, 4096 - 1024)).isEqualTo(stored).isEqualTo(r.checksum());
    }

    @Test
    void aFailedConversionLeavesNoOutput() {
        Path out = dir.resolve("bad.erofs");
        byte[] tar = new TarCorpus().file("../escape", new byte[1]).bytes();
        assertThatThrownBy(() -> ErofsTarWriter.write(new ByteArrayInputStream(tar), out, OPTS))
                .isInstanceOf(FormatException.class).hasMessageContaining("traversal");
        assertThat(out).doesNotExist();
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s).isEmpty();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void hostileOrUnsupportedTarsAreRefused() {
        assertRefused(new TarCorpus().file("a/../../b", new byte[1]).bytes(), "traversal");
        assertRefused(new TarCorpus().hardlink("l", "missing").bytes(), "does not exist");
        assertRefused(new TarCorpus().file(".", new byte[1]).bytes(), "root");
        assertRefused(new TarCorpus().file("f", new byte[1]).file("f/g", new byte[1]).bytes(), "not a directory");
        assertRefused(new TarCorpus().withPax("x", TarConstants.LF_NORMAL, 0644, new byte[0],
                Map.of("SCHILY.xattr.system.foo", "v")).bytes(), "name space");
        assertRefused(new TarCorpus().device("c", TarConstants.LF_CHR, 0600, 4096, 1).bytes(), "12-bit");
        assertRefused(new TarCorpus().symlink("s", "x".repeat(4096)).bytes(), "too long");
    }

    @Test
    void capsBoundEntriesAndFileSizes() {
        byte[] tar = new TarCorpus().file("a", new byte[10]).file("b", new byte[10]).bytes();
        assertThatThrownBy(() -> ErofsTarWriter.write(new ByteArrayInputStream(tar), dir.resolve("c1"),
                new ErofsOptions(OPTS.uuid(), 0, 1, 1 << 20))).isInstanceOf(FormatException.class)
                .hasMessageContaining("more than 1 tar entries");
        assertThatThrownBy(() -> ErofsTarWriter.write(new ByteArrayInputStream(tar), dir.resolve("c2"),
                new ErofsOptions(OPTS.uuid(), 0, 10, 5))).isInstanceOf(FormatException.class)
                .hasMessageContaining("larger than 5");
    }

    void assertRefused(byte[] tar, String why) {
        assertThatThrownBy(() -> image(tar)).as(why).isInstanceOf(FormatException.class).hasMessageContaining(why);
    }

    @Test
    void unsupportedIsAFormatExceptionSubtype() {
        assertThat(FormatException.class).isAssignableFrom(UnsupportedFeatureException.class);
    }
}
