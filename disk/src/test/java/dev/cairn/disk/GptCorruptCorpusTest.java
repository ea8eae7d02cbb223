package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import dev.cairn.testing.CorruptCorpus;
import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of corrupt GPTs: CorruptCorpus's truncations, bit flips and overwritten fields (aimed at
 * the MBR record, every header field of both headers and every entry field), plus semantic
 * corruptions whose CRCs are recomputed so that the checks behind the CRC checks are reached
 * (inverted, overlapping and out-of-range partitions, absurd counts and sizes, moved arrays). Each
 * ends in a table or a FormatException within 2 s and 32 MiB; a table with a damaged primary says
 * so in its problems.
 */
class GptCorruptCorpusTest {
    @TempDir
    static Path dir;
    static byte[] valid;

    @BeforeAll
    static void image() throws IOException {
        Path a = dir.resolve("a");
        SeededData.writeFile(a, 5, 5000);
        DiskLayout l = DiskLayout.plan(GptImages.DISK, List.of(
                new PartitionSpec(DpsType.ESP.uuid(), new UUID(3, 1), "esp", 0, 8192, a),
                new PartitionSpec(DpsType.ROOT_ARM64.uuid(), new UUID(3, 2), "root", DpsType.READ_ONLY, 16384, a),
                new PartitionSpec(DpsType.ROOT_ARM64_VERITY.uuid(), new UUID(3, 3), "verity", DpsType.READ_ONLY, 4096, null)), 0);
        Path img = dir.resolve("small.raw");
        GptWriter.write(l, img);
        valid = Files.readAllBytes(img);
    }

    static int[] hotOffsets(int length) {
        List<Integer> hot = new ArrayList<>();
        for (int i = 446; i < 462; i += 2) {
            hot.add(i);
        }
        hot.add(510);
        int[] header = {0, 8, 12, 16, 20, 24, 32, 40, 48, 56, 64, 72, 80, 84, 88};
        for (int h : new int[] {512, length - 512}) {
            for (int f : header) {
                hot.add(h + f);
            }
        }
        for (int array : new int[] {1024, length - 33 * 512}) {
            for (int e = 0; e < 4; e++) {
                for (int f : new int[] {0, 8, 16, 32, 40, 48, 56}) {
                    hot.add(array + e * 128 + f);
                }
            }
        }
        return hot.stream().mapToInt(Integer::intValue).toArray();
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        List<CorruptCorpus.Sample> samples = CorruptCorpus.derive("gpt", valid, 20261206L, 250, hotOffsets(valid.length));
        return samples.stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            Object out = Hostile.run(s.name(), () -> GptReader.read(new MemChannel(s.bytes())));
            if (out instanceof GptTable t && t.fromBackup()) {
                assertThat(t.problems()).as(s.name()).anyMatch(p -> p.contains("primary GPT unusable"));
            }
        }));
    }

    /** Field corruptions with CRCs recomputed: the semantic checks must catch them. */
    @TestFactory
    Stream<DynamicTest> semantic() {
        Random r = new Random(77);
        List<DynamicTest> tests = new ArrayList<>();
        long[] values = {0, 1, 2, 33, 34, 35, 2047, 2048, 0xFFFF_FFFFL, -1L, 1L << 62, valid.length / 512 - 1, valid.length / 512,
            valid.length / 512 - 34, valid.length / 512 - 33, 40, 41, 56};
        int[][] entryFields = {{0x20, 8}, {0x28, 8}};
        int[][] headerFields = {{0x18, 8}, {0x20, 8}, {0x28, 8}, {0x30, 8}, {0x48, 8}, {0x50, 4}, {0x54, 4}, {0x0C, 4}};
        for (int i = 0; i < 220; i++) {
            byte[] b = valid.clone();
            boolean header = i % 3 == 0;
            boolean bothSides = i % 2 == 0;
            int[] field = header ? headerFields[r.nextInt(headerFields.length)] : entryFields[r.nextInt(entryFields.length)];
            long v = r.nextInt(4) == 0 ? r.nextLong() : values[r.nextInt(values.length)];
            int entry = r.nextInt(4);
            StringBuilder name = new StringBuilder(header ? "header" : "entry" + entry).append("+0x")
                    .append(Integer.toHexString(field[0])).append('=').append(Long.toUnsignedString(v)).append(bothSides ? " both" : " primary");
            for (boolean backup : bothSides ? new boolean[] {false, true} : new boolean[] {false}) {
                int at = header ? (backup ? b.length - 512 : 512) + field[0] : GptImages.entry(b, entry, backup) + field[0];
                if (!header && entry == 3) {
                    LittleEndian.putU64(b, at - field[0], 0x1234_5678_9abc_def0L); // make the unused entry used
                }
                if (field[1] == 4) {
                    LittleEndian.putU32(b, at, v & 0xFFFF_FFFFL);
                } else {
                    LittleEndian.putU64(b, at, v);
                }
            }
            GptImages.fixBoth(b);
            String n = i + " " + name;
            tests.add(DynamicTest.dynamicTest(n, () -> {
                Object out = Hostile.run(n, () -> GptReader.read(new MemChannel(b)));
                if (out instanceof GptTable t) {
                    for (GptEntry e : t.entries()) {
                        assertThat(e.firstLba()).as(n).isBetween(t.firstUsableLba(), e.lastLba());
                        assertThat(e.lastLba()).as(n).isLessThanOrEqualTo(t.lastUsableLba()).isLessThan(b.length / 512);
                    }
                } else {
                    assertThat(out).isInstanceOf(FormatException.class);
                }
            }));
        }
        return tests.stream();
    }
}
