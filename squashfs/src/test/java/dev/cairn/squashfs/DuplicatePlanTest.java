package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Duplicate detection with a plan of file sizes ({@link SquashfsWriter#planFileSizes}): files of a
 * size no other file has are not digested, and the plan never changes the image, even when it is
 * wrong (a file read with another size than planned, a file outside the plan).
 */
class DuplicatePlanTest {
    private static final int BS = 131072;

    @TempDir
    Path dir;

    /** A file to add: its content, the size it was planned with (-1: added outside the plan). */
    private record F(String path, byte[] content, long expected) {
        static F planned(String path, byte[] content) {
            return new F(path, content, content.length);
        }
    }

    private record Built(byte[] image, SquashfsResult result, long digested) {
    }

    /** Compressible content: text-like bytes from a seed. */
    private static byte[] text(long seed, int length) {
        byte[] r = SeededData.bytes(seed, length);
        for (int i = 0; i < length; i++) {
            r[i] = (byte) ('a' + (r[i] & 0x07));
        }
        return r;
    }

    private static byte[] sparse(long seed) {
        byte[] b = new byte[4 * BS + 300];
        System.arraycopy(text(seed, BS), 0, b, 0, BS);
        System.arraycopy(text(seed + 1, BS + 300), 0, b, 3 * BS, BS + 300);
        return b;
    }

    private Built build(String name, List<F> files, boolean plan) throws IOException {
        Path img = dir.resolve(name);
        SquashfsResult r;
        long digested;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.ZSTD).withLevel(3).withProcessors(2))) {
            if (plan) {
                w.planFileSizes(files.stream().filter(f -> f.expected() >= 0).mapToLong(F::expected).toArray());
            }
            for (F f : files) {
                EntryMetadata m = EntryMetadata.of(0644, 0, 0, 0);
                if (plan && f.expected() >= 0) {
                    w.addFile(f.path(), m, new ByteArrayInputStream(f.content()), -1, f.expected());
                } else {
                    w.addFile(f.path(), m, new ByteArrayInputStream(f.content()), -1);
                }
            }
            r = w.finish();
            digested = w.digestedFiles();
        }
        return new Built(Files.readAllBytes(img), r, digested);
    }

    /** Builds with and without the plan: the same bytes; returns the planned build. */
    private Built same(List<F> files) throws IOException {
        Built without = build("without.sqfs", files, false);
        Built with = build("with.sqfs", files, true);
        assertThat(with.image()).as("the plan never changes the image").isEqualTo(without.image());
        assertThat(with.result().duplicateFiles()).isEqualTo(without.result().duplicateFiles());
        assertThat(with.result().duplicateBytes()).isEqualTo(without.result().duplicateBytes());
        assertThat(without.digested()).isEqualTo(files.stream().filter(f -> f.content().length > 0).count());
        Map<String, String> listing = SquashfsRoundTripTest.readAll(dir.resolve("with.sqfs"));
        for (F f : files) {
            assertThat(listing.get(f.path())).endsWith("sha=" + HexFormat.of().formatHex(SquashfsRoundTripTest.sha(f.content())));
        }
        Files.delete(dir.resolve("without.sqfs"));
        Files.delete(dir.resolve("with.sqfs"));
        return with;
    }

    @Test
    void onlyFilesSharingASizeAreDigested() throws IOException {
        byte[] shared = text(1, 3 * BS + 100);
        byte[] other = text(2, 3 * BS + 100);
        List<F> files = List.of(
                F.planned("a-unique", text(3, 5000)),
                F.planned("b-shared", shared),
                F.planned("c-unique-big", text(4, SquashfsWriter.HOLD + 2 * BS + 77)),
                F.planned("d-copy", shared),
                F.planned("e-same-size", other),
                F.planned("f-unique-random", SeededData.bytes(5, 2 * BS + 9)),
                F.planned("g-empty", new byte[0]));
        Built b = same(files);
        assertThat(b.digested()).as("only b, d and e share a size").isEqualTo(3);
        assertThat(b.result().duplicateFiles()).isEqualTo(1);
    }

    @Test
    void aFileOutsideThePlanIsComparedWithAnUndigestedOneReadBackFromTheImage() throws IOException {
        byte[] big = text(6, SquashfsWriter.HOLD + 3 * BS + 500);       // compressed blocks, tail in a block of its own
        byte[] random = SeededData.bytes(7, 2 * BS + 40);                // raw blocks
        byte[] sealed = SeededData.bytes(8, 3000);                       // tail in a raw fragment block sealed later
        byte[] open = text(9, 2000);                                     // tail still in the open fragment block
        byte[] holes = sparse(10);                                       // sparse blocks
        List<F> files = new ArrayList<>(List.of(
                F.planned("big", big), F.planned("holes", holes), F.planned("random", random), F.planned("sealed", sealed)));
        for (int i = 0; i < 60; i++) {
            files.add(F.planned("filler" + i, SeededData.bytes(100 + i, 4000 + i))); // fills fragment blocks
        }
        files.add(F.planned("open", open));
        // the same contents again, outside the plan (as files a build adds after the tree)
        files.add(new F("z-big", big, -1));
        files.add(new F("z-holes", holes, -1));
        files.add(new F("z-random", random, -1));
        files.add(new F("z-sealed", sealed, -1));
        files.add(new F("z-open", open, -1));
        Built b = same(files);
        assertThat(b.result().duplicateFiles()).isEqualTo(5);
        assertThat(b.digested()).as("each pair digested, the fillers not").isEqualTo(10);
    }

    @Test
    void aFileReadWithAnotherSizeThanPlannedIsStillCompared() throws IOException {
        byte[] content = text(11, BS + 10);
        byte[] big = text(12, SquashfsWriter.HOLD + BS);
        List<F> files = List.of(
                F.planned("a", content),
                new F("b-grew", content, 7),                 // planned with 7 bytes, read with the size of a
                F.planned("c", big),
                new F("d-shrank", big, big.length + 1),      // streamed: its own blocks are read back
                new F("e-other", text(13, 7), 8));           // the size b was planned with, read with 7 bytes
        Built b = same(files);
        assertThat(b.result().duplicateFiles()).isEqualTo(2);
    }

    @Test
    void directorySourcePlansTheTreeItReads() throws IOException {
        // (listFirst: the plan arrives before the first file, as it does for all but the first files of a large tree)
        Path src = Files.createDirectory(dir.resolve("src"));
        byte[] shared = text(20, 3000);
        Files.write(src.resolve("a"), shared);
        Files.write(src.resolve("b"), text(21, 4000));
        Files.createDirectory(src.resolve("sub"));
        Files.write(src.resolve("sub/c"), shared);
        Files.write(src.resolve("sub/d"), text(22, 3000));
        Files.write(src.resolve("sub/e"), text(23, 5000));
        Files.createLink(src.resolve("sub/f"), src.resolve("sub/e")); // read once: its size stays unique
        Path img = dir.resolve("tree.sqfs");
        SquashfsResult r;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.ZSTD).withLevel(3))) {
            DirectorySource.add(src, w, SourceFilter.none(), Set.of(), true);
            r = w.finish();
            assertThat(w.digestedFiles()).as("a, sub/c and sub/d share a size").isEqualTo(3);
        }
        assertThat(r.duplicateFiles()).isEqualTo(1);
        Map<String, String> listing = SquashfsRoundTripTest.readAll(img);
        assertThat(listing.get("sub/c")).endsWith("sha=" + HexFormat.of().formatHex(SquashfsRoundTripTest.sha(shared)));
        assertThat(Arrays.asList(listing.keySet().toArray())).contains("sub/f");
    }

    @Test
    void theImageDoesNotDependOnWhenTheListingEnds() throws IOException {
        Path src = Files.createDirectory(dir.resolve("src"));
        for (int i = 0; i < 40; i++) {
            Path d = Files.createDirectories(src.resolve("d" + (i % 7)));
            Files.write(d.resolve("f" + i), text(30 + i % 13, 1000 + 700 * (i % 13 % 4)));
        }
        byte[][] images = new byte[2][];
        for (int k = 0; k < 2; k++) {
            Path img = dir.resolve("tree" + k + ".sqfs");
            try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.ZSTD).withLevel(3))) {
                DirectorySource.add(src, w, SourceFilter.none(), Set.of(), k == 1);
                assertThat(w.finish().duplicateFiles()).isEqualTo(40 - 13);
            }
            images[k] = Files.readAllBytes(img);
        }
        assertThat(images[0]).isEqualTo(images[1]);
    }
}
