package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.io.FormatException;
import dev.cairn.testing.CorruptCorpus;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of corrupt FAT32 images: CorruptCorpus's truncations, bit flips, overwritten fields and
 * junk over the metadata (boot sector, FSInfo, both FATs, the directories), plus targeted damage:
 * looping and cross-linked chains, chains into free, bad and out-of-range clusters, directory
 * loops, absurd file sizes and first clusters. Each case lists everything and streams every file;
 * it must end normally or in a FormatException within 2 s and 32 MiB.
 */
class FatCorruptCorpusTest {
    @TempDir
    static Path dir;
    static byte[] valid;
    static List<FatFile> files;

    @BeforeAll
    static void image() throws IOException {
        valid = FatImages.valid(dir);
        files = FatReader.open(new MemChannel(valid)).list();
    }

    /** Opens, lists and reads everything; returns the number of bytes read. */
    static long exercise(MemChannel ch) throws IOException {
        FatReader r = FatReader.open(ch);
        long n = 0;
        for (FatFile f : r.list()) {
            if (!f.directory()) {
                n += r.copyFile(f.path(), OutputStream.nullOutputStream());
            }
        }
        return n;
    }

    static int[] hotOffsets() {
        List<Integer> hot = new ArrayList<>();
        for (int o : new int[] {0x0B, 0x0D, 0x0E, 0x10, 0x11, 0x13, 0x16, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x32}) {
            hot.add(o);
        }
        for (int fat = 0; fat < 2; fat++) {
            for (int c = 0; c < 80; c++) {
                hot.add((int) FatImages.fatEntry(fat, c));
            }
        }
        for (FatFile f : files) {
            hot.add((int) FatImages.GEOMETRY.clusterOffset(Math.max(2, f.firstCluster())));
        }
        long dirs = FatImages.GEOMETRY.clusterOffset(2);
        for (int i = 0; i < 8 * 16; i++) {
            hot.add((int) dirs + i * 32 + (i % 4 == 0 ? 0x1C : i % 4 == 1 ? 0x1A : i % 4 == 2 ? 0x14 : 0x0B));
        }
        return hot.stream().mapToInt(Integer::intValue).toArray();
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        byte[] meta = Arrays.copyOf(valid, FatImages.metadataEnd());
        MemChannel base = new MemChannel(valid);
        return CorruptCorpus.derive("fat", meta, 20261207L, 260, hotOffsets()).stream().map(s -> DynamicTest.dynamicTest(s.name(),
                () -> {
                    MemChannel ch = s.bytes().length < meta.length ? base.cut(s.bytes().length) : base.patch(0, s.bytes());
                    Hostile.run(s.name(), () -> exercise(ch));
                }));
    }

    @TestFactory
    Stream<DynamicTest> targeted() {
        Random r = new Random(4242);
        MemChannel base = new MemChannel(valid);
        long clusters = FatImages.GEOMETRY.clusterCount();
        List<DynamicTest> tests = new ArrayList<>();
        long used = 2 + files.stream().mapToLong(f -> f.size() / 512 + 1).sum() + 10;
        long[] values = {0, 1, 2, 3, 0x0FFF_FFF7L, 0x0FFF_FFF8L, 0x0FFF_FFFFL, clusters + 1, clusters + 2, 0x0FFF_FFF0L, 0xFFFF_FFFFL};
        for (int i = 0; i < 160; i++) {
            long c = 2 + r.nextInt((int) used);
            long v = r.nextInt(3) == 0 ? 2 + r.nextInt((int) used) : values[r.nextInt(values.length)];
            boolean both = r.nextBoolean();
            MemChannel ch = base.patch(FatImages.fatEntry(0, c), FatImages.u32(v));
            if (both) {
                ch = ch.patch(FatImages.fatEntry(1, c), FatImages.u32(v));
            }
            String name = "FAT[" + c + "]=" + Long.toHexString(v) + (both ? " both" : "");
            MemChannel fc = ch;
            tests.add(DynamicTest.dynamicTest(name, () -> Hostile.run(name, () -> exercise(fc))));
        }
        for (FatFile f : files) {
            long entry = entryOf(f);
            for (long[] p : new long[][] {{0x1C, 0xFFFF_FFFFL}, {0x1C, FatImages.GEOMETRY.clusterCount() * 512}, {0x1C, 1 << 24},
                {0x1A, 2}, {0x1A, 0}, {0x1A, 0xFFFF}, {0x14, 0x0FFF}, {0x0B, 0x10}, {0x0B, 0x0F}, {0x0B, 0x08}, {0x00, 0xE5},
                {0x00, 0x00}, {0x00, 0x2F}}) {
                int width = p[0] == 0x1C ? 4 : p[0] == 0x1A || p[0] == 0x14 ? 2 : 1;
                byte[] v = Arrays.copyOf(FatImages.u32(p[1]), width);
                String name = f.path() + " +0x" + Long.toHexString(p[0]) + "=" + Long.toHexString(p[1]);
                MemChannel ch = base.patch(entry + p[0], v);
                tests.add(DynamicTest.dynamicTest(name, () -> Hostile.run(name, () -> exercise(ch))));
            }
        }
        // every directory made to point at every other directory (and the root): loops must be found
        List<FatFile> dirs = files.stream().filter(FatFile::directory).toList();
        for (FatFile d : dirs) {
            for (long target : Stream.concat(Stream.of(2L), dirs.stream().map(FatFile::firstCluster)).toList()) {
                if (target == d.firstCluster()) {
                    continue; // unchanged
                }
                long entry = entryOf(d);
                String name = d.path() + " -> cluster " + target;
                MemChannel ch = base.patch(entry + 0x1A, new byte[] {(byte) target, (byte) (target >>> 8)});
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    Object out = Hostile.run(name, () -> exercise(ch));
                    if (target == 2 || isAncestor(target, d)) {
                        assertThat(out).as(name).isInstanceOf(FormatException.class);
                    }
                }));
            }
        }
        return tests.stream();
    }

    static boolean isAncestor(long cluster, FatFile d) {
        for (FatFile f : files) {
            if (f.directory() && f.firstCluster() == cluster && d.path().startsWith(f.path() + "/")) {
                return true;
            }
        }
        return false;
    }

    /** Offset of the short entry describing {@code f} in its parent directory. */
    static long entryOf(FatFile f) {
        String parent = f.path().substring(0, f.path().lastIndexOf('/'));
        long cluster = parent.isEmpty() ? 2 : files.stream().filter(x -> x.path().equals(parent)).findFirst().orElseThrow().firstCluster();
        long base = FatImages.GEOMETRY.clusterOffset(cluster);
        String sn = f.shortName();
        int dot = sn.indexOf('.');
        String name11 = dot < 0 ? String.format("%-11s", sn) : String.format("%-8s%-3s", sn.substring(0, dot), sn.substring(dot + 1));
        for (int off = 0; off < 4096; off += 32) {
            if (new String(valid, (int) base + off, 11, java.nio.charset.StandardCharsets.ISO_8859_1).equals(name11)) {
                return base + off;
            }
        }
        throw new AssertionError("no entry for " + f);
    }
}
