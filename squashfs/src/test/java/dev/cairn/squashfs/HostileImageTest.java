package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images crafted by patching an uncompressed-metadata image: path traversal names, slashes,
 * directory loops. The reader refuses them before anything is extracted.
 */
class HostileImageTest {
    @TempDir
    Path dir;

    private byte[] image(String name, boolean subdir) throws IOException {
        Path img = dir.resolve("base.sqfs");
        try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withProcessors(1)
                     .withCompressMetadata(false))) {
            if (subdir) {
                w.addDirectory(name, EntryMetadata.of(0755, 0, 0, 0));
                w.addFile(name + "/victim", EntryMetadata.of(0644, 0, 0, 0), new java.io.ByteArrayInputStream("owned".getBytes()));
            } else {
                w.addFile(name, EntryMetadata.of(0644, 0, 0, 0), new java.io.ByteArrayInputStream("owned".getBytes()));
            }
            w.finish();
        }
        return Files.readAllBytes(img);
    }

    private static void replace(byte[] b, String from, String to) {
        byte[] f = from.getBytes(StandardCharsets.ISO_8859_1);
        byte[] t = to.getBytes(StandardCharsets.ISO_8859_1);
        int hits = 0;
        for (int i = 0; i + f.length <= b.length; i++) {
            if (java.util.Arrays.equals(b, i, i + f.length, f, 0, f.length)) {
                System.arraycopy(t, 0, b, i, t.length);
                hits++;
            }
        }
        assertThat(hits).as("occurrences of " + from).isEqualTo(1);
    }

    private void assertRefusedAndNothingExtracted(byte[] crafted, String why) throws IOException {
        Path img = dir.resolve("crafted.sqfs");
        Files.write(img, crafted);
        Path target = dir.resolve("sandbox/target");
        try (SquashfsImage i = SquashfsImage.open(img)) {
            assertThatThrownBy(() -> Extractor.extract(i, target, List.of(), false, w -> { }))
                    .isInstanceOf(FormatException.class).hasMessageContaining(why);
        }
        try (Stream<Path> s = Files.walk(dir.resolve("sandbox"))) {
            assertThat(s.filter(Files::isRegularFile)).as("files written").isEmpty();
        }
    }

    @Test
    void dotDotNamesAreRefused() throws IOException {
        byte[] b = image("zz", true);
        replace(b, "zz", "..");
        assertRefusedAndNothingExtracted(b, "'.' or '..'");
    }

    @Test
    void slashesInNamesAreRefused() throws IOException {
        byte[] c = image("aaaaaaaaaaaaaaaaaaaaaaaaa", false);
        replace(c, "aaaaaaaaaaaaaaaaaaaaaaaaa", "a/../../../../../../../et");
        assertRefusedAndNothingExtracted(c, "'/'");
    }

    @Test
    void directoryLoopsAreDetected() throws IOException {
        byte[] b = image("d", true);
        try (SquashfsImage i = SquashfsImage.open(dir.resolve("base.sqfs"))) {
            SquashfsEntry root = i.root();
            SquashfsEntry d = i.list(root).get(0);
            Inode.Directory rootInode = (Inode.Directory) i.readInode(root.ref());
            Inode.Directory dInode = (Inode.Directory) i.readInode(d.ref());
            // point d's listing at the root's listing: d contains d contains d …
            long inodeTable = i.superblock().inodeTable();
            int at = Math.toIntExact(inodeTable + 2 + (d.ref() & 0xFFFF)); // one raw metadata block: header + offset
            assertThat(dInode.header().type()).isEqualTo(Inode.DIR);
            dev.cairn.io.LittleEndian.putU32(b, at + 16, rootInode.startBlock());
            dev.cairn.io.LittleEndian.putU16(b, at + 24, (int) rootInode.fileSize());
            dev.cairn.io.LittleEndian.putU16(b, at + 26, rootInode.offset());
        }
        assertRefusedAndNothingExtracted(b, "reached twice");
    }

    /** A root directory whose one xattr set has {@code pairs} out-of-line references to one 64 KiB value. */
    private Path xattrBomb(int pairs, long recordedSize) throws IOException {
        java.io.ByteArrayOutputStream kv = new java.io.ByteArrayOutputStream();
        kv.writeBytes(CraftedImage.le(4).putInt(65536).array());
        kv.writeBytes(new byte[65536]);
        int records = kv.size();
        for (int i = 0; i < pairs; i++) {
            byte[] name = String.format("%05x", i).getBytes(StandardCharsets.US_ASCII);
            kv.writeBytes(CraftedImage.le(4).putShort((short) 0x100).putShort((short) name.length).array());
            kv.writeBytes(name);
            kv.writeBytes(CraftedImage.le(12).putInt(8).putLong(CraftedImage.ref(0)).array());
        }
        byte[] ids = CraftedImage.le(16).putLong(CraftedImage.ref(records)).putInt(pairs).putInt((int) recordedSize).array();
        byte[] root = CraftedImage.ldir(1, 3, 0, 2, 0);
        Path img = dir.resolve("xattr-bomb.sqfs");
        Files.write(img, CraftedImage.assemble(1, 131072, 0, root, new byte[0], kv.toByteArray(), ids));
        return img;
    }

    @Test
    void outOfLineXattrValuesCannotMultiplyMemory() throws IOException {
        // 1000 references to one 64 KiB value: 64 MiB from a 90 KB image (65536 of them: 4 GiB, an OOM)
        Path img = xattrBomb(1000, 0);
        assertThatThrownBy(() -> SquashfsImage.check(img)).isInstanceOf(FormatException.class)
                .hasMessageContaining("xattr set decodes to more than");
        try (SquashfsImage i = SquashfsImage.open(img)) {
            assertThatThrownBy(() -> i.xattrs(i.root())).isInstanceOf(FormatException.class);
        }
    }

    @Test
    void xattrSetSizeFieldIsABound() throws IOException {
        assertThat(xattrBombReads(2, 0)).hasSize(2);
        Path img = xattrBomb(2, 64L << 20);
        assertThatThrownBy(() -> SquashfsImage.check(img)).isInstanceOf(FormatException.class)
                .hasMessageContaining("xattr set of 67108864 bytes");
    }

    private java.util.SortedMap<String, byte[]> xattrBombReads(int pairs, long recordedSize) throws IOException {
        try (SquashfsImage i = SquashfsImage.open(xattrBomb(pairs, recordedSize))) {
            return i.xattrs(i.root());
        }
    }

    @Test
    void directoriesSharingAListingAreRefused() throws IOException {
        // distinct directory inodes with one listing: n of them over an m-entry listing walk n × m entries
        Path base = dir.resolve("base.sqfs");
        try (var ch = java.nio.channels.FileChannel.open(base, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withProcessors(1)
                     .withCompressMetadata(false))) {
            for (String d : List.of("a", "b", "c")) {
                w.addDirectory(d, EntryMetadata.of(0755, 0, 0, 0));
                // a file: a shared directory below would already repeat its inode
                w.addFile(d + "/" + d, EntryMetadata.of(0644, 0, 0, 0), new java.io.ByteArrayInputStream(new byte[0]));
            }
            w.addDirectory("e1", EntryMetadata.of(0755, 0, 0, 0));
            w.addDirectory("e2", EntryMetadata.of(0755, 0, 0, 0));
            w.finish();
        }
        byte[] b = Files.readAllBytes(base);
        try (SquashfsImage i = SquashfsImage.open(base)) {
            List<SquashfsEntry> kids = i.list(i.root());
            Inode.Directory a = (Inode.Directory) i.readInode(kids.get(0).ref());
            for (SquashfsEntry d : kids.subList(1, 3)) {
                int at = Math.toIntExact(i.superblock().inodeTable() + 2 + (d.ref() & 0xFFFF));
                assertThat(i.readInode(d.ref()).header().type()).isEqualTo(Inode.DIR);
                dev.cairn.io.LittleEndian.putU32(b, at + 16, a.startBlock());
                dev.cairn.io.LittleEndian.putU16(b, at + 26, a.offset());
            }
            // empty directories share a location with each other and with the next listing: still valid
            SquashfsImage.check(base);
        }
        Path crafted = dir.resolve("crafted.sqfs");
        Files.write(crafted, b);
        assertThatThrownBy(() -> SquashfsImage.check(crafted)).isInstanceOf(FormatException.class)
                .hasMessageContaining("reached twice").hasMessageContaining("directory=b");
    }

    @Test
    void fileBlockListsAreReadOnlyForData() throws IOException {
        // one extended file inode claiming 2^20 blocks of 4 KiB with no block list stored, under 64
        // names: listing reads no block list (it was read once per name), data reading refuses it
        // before allocating
        int names = 64;
        java.io.ByteArrayOutputStream dirs = new java.io.ByteArrayOutputStream();
        CraftedImage.listingHeader(dirs, names, 0, 2);
        for (int j = 0; j < names; j++) {
            CraftedImage.listingEntry(dirs, 40, 0, Inode.FILE, String.format("f%02d", j).getBytes(StandardCharsets.US_ASCII));
        }
        java.io.ByteArrayOutputStream inodes = new java.io.ByteArrayOutputStream();
        inodes.writeBytes(CraftedImage.ldir(1, dirs.size() + 3, 0, 2, Inode.NO_XATTR));
        inodes.writeBytes(CraftedImage.inode(56, Inode.LREG, 0644, 2).putLong(Superblock.SIZE).putLong(4096L << 20)
                .putLong(0).putInt(names).putInt((int) Inode.NO_FRAGMENT).putInt(0).putInt((int) Inode.NO_XATTR).array());
        Path img = dir.resolve("blocks.sqfs");
        Files.write(img, CraftedImage.assemble(2, 4096, 0, inodes.toByteArray(), dirs.toByteArray(), null, null));
        try (SquashfsImage i = SquashfsImage.open(img)) {
            List<SquashfsEntry> files = i.list(i.root());
            assertThat(files).hasSize(names).allSatisfy(f -> assertThat(f.size()).isEqualTo(4096L << 20));
            assertThatThrownBy(() -> i.open(files.get(0))).isInstanceOf(FormatException.class)
                    .hasMessageContaining("block list of 1048576 entries runs past the inode table");
        }
    }
}
