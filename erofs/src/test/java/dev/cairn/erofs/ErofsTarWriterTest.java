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

    // ------------------------------------------------------------ tar-index mode (--tar=i)

    static final ErofsOptions INDEX = OPTS.withTarIndex(true);

    @Test
    void tarIndexOptions() {
        assertThat(OPTS.tarIndex()).isFalse();
        assertThat(INDEX.tarIndex()).isTrue();
        assertThat(INDEX.withTarIndex(false)).isEqualTo(OPTS);
        ErofsOptions c = ErofsOptions.containerdTarIndex("sha256:" + "ab".repeat(32));
        assertThat(c.uuid()).isEqualTo(ErofsOptions.containerd("sha256:" + "ab".repeat(32)).uuid());
        assertThat(c.buildTime()).isZero();
        assertThat(c.tarIndex()).isTrue();
    }

    @Test
    void aTarIndexImageHas512ByteBlocksADeviceTableAndChunkIndexesIntoTheTar() throws IOException {
        byte[] tar = new TarCorpus().file("f", TarCorpus.random(3, 5000)).bytes();
        Path out = dir.resolve("index.erofs");
        ErofsResult r = ErofsTarWriter.write(new ByteArrayInputStream(tar), out, INDEX);
        byte[] img = Files.readAllBytes(out);
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(img[1024 + 0x0C]).as("blkszbits").isEqualTo((byte) 9);
        assertThat(img.length).isEqualTo(r.size()).isEqualTo(512L * r.blocks());
        assertThat(b.getInt(1024 + 0x24)).isEqualTo((int) r.blocks());
        assertThat(b.getInt(1024 + 0x08)).as("compat: mtime, no sb_csum").isEqualTo(2);
        assertThat(b.getInt(1024 + 4)).as("no checksum, as erofs-utils 1.8.6").isZero();
        assertThat(r.checksum()).isZero();
        assertThat(b.getInt(1024 + 0x50)).as("incompat: device table").isEqualTo(8);
        assertThat(b.getShort(1024 + 0x56)).as("extra devices").isEqualTo((short) 1);
        assertThat(b.getShort(1024 + 0x58)).as("devt_slotoff").isEqualTo((short) 9);
        // device slot at 9 * 128: the tar up to its end-of-archive blocks, mapped after the image
        long tarEnd = 512 + 5120 + 1024; // header, data (10 blocks), two zero blocks
        assertThat(b.getInt(1152 + 64)).isEqualTo((int) (tarEnd / 512));
        assertThat(b.getInt(1152 + 68)).isEqualTo((int) r.blocks());
        // the file: extended inode (mtime != build time), CHUNK_BASED, one 8 KiB chunk at tar block 1
        int nid = b.getShort(1024 + 0x0E) & 0xFFFF;
        int rootIsize = (b.getShort(nid * 32) & 1) == 0 ? 32 : 64;
        assertThat(b.getShort(nid * 32) >> 1).as("root: FLAT_INLINE").isEqualTo(2);
        int dirent = nid * 32 + rootIsize; // root's inline dirents: ".", "..", "f"
        int fnid = (int) b.getLong(dirent + 2 * 12);
        int f = fnid * 32;
        assertThat(b.getShort(f)).as("i_format").isEqualTo((short) (1 | 4 << 1));
        assertThat(b.getLong(f + 8)).isEqualTo(5000);
        assertThat(b.getInt(f + 0x10)).as("chunk format").isEqualTo(0x20 | 4);
        assertThat(b.getShort(f + 64 + 2)).as("device id").isEqualTo((short) 1);
        assertThat(b.getInt(f + 64 + 4)).as("tar block").isEqualTo(1);
    }

    @Test
    void theTarIndexLayerIsTheIndexFollowedByTheWholeTar() throws IOException {
        byte[] tar = TarCorpus.randomLayer(5);
        byte[] withTail = java.util.Arrays.copyOf(tar, tar.length + 1000);
        java.util.Arrays.fill(withTail, tar.length, withTail.length, (byte) 7);
        Path index = dir.resolve("index.erofs");
        ErofsResult ir = ErofsTarWriter.write(new ByteArrayInputStream(withTail), index, INDEX);
        Path layer = dir.resolve("sub/layer.erofs");
        TarIndexLayerResult r = ErofsTarWriter.writeTarIndexLayer(new ByteArrayInputStream(withTail), layer, INDEX);
        byte[] expected = java.util.Arrays.copyOf(Files.readAllBytes(index), (int) ir.size() + withTail.length);
        System.arraycopy(withTail, 0, expected, (int) ir.size(), withTail.length);
        assertThat(Files.readAllBytes(layer)).isEqualTo(expected);
        assertThat(r.index()).isEqualTo(ir);
        assertThat(r.tarSize()).isEqualTo(withTail.length);
        assertThat(r.size()).isEqualTo(expected.length);
        try (Stream<Path> s = Files.list(layer.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("layer.erofs");
        }
    }

    @Test
    void aTarIndexLayerNeedsTarIndexOptionsAndAFailureLeavesNothing() throws IOException {
        Path layer = dir.resolve("l/layer.erofs");
        assertThatThrownBy(() -> ErofsTarWriter.writeTarIndexLayer(new ByteArrayInputStream(new byte[1024]), layer,
                OPTS)).isInstanceOf(IllegalArgumentException.class);
        byte[] tar = TarCorpus.randomLayer(2);
        byte[] truncated = java.util.Arrays.copyOf(tar, tar.length / 2 + 100);
        assertThatThrownBy(() -> ErofsTarWriter.writeTarIndexLayer(new ByteArrayInputStream(truncated), layer, INDEX))
                .isInstanceOf(IOException.class);
        assertThat(layer).doesNotExist();
        if (Files.exists(layer.getParent())) {
            try (Stream<Path> s = Files.list(layer.getParent())) {
                assertThat(s).isEmpty();
            }
        }
    }

    @Test
    void theTarIndexModeIsDeterministic() throws IOException {
        byte[] tar = TarCorpus.randomLayer(9);
        Path a = dir.resolve("a.erofs");
        Path b = dir.resolve("b.erofs");
        ErofsTarWriter.write(new ByteArrayInputStream(tar), a, INDEX);
        ErofsTarWriter.write(new ByteArrayInputStream(tar), b, INDEX);
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
    }
}
