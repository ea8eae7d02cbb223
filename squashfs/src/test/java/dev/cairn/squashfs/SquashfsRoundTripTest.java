package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.testing.SeededData;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Writer → reader round trips through the API, no external tools. */
class SquashfsRoundTripTest {
    @TempDir
    Path dir;

    /** An entry of the synthetic tree, added in a chosen order. */
    private record Op(String path, IoConsumer add) {
    }

    @FunctionalInterface
    private interface IoConsumer {
        void accept(SquashfsWriter w) throws IOException;
    }

    private static final byte[] IMA = HexFormat.of().parseHex("030204aabbccdd0100" + "11".repeat(32));

    static List<Op> ops() {
        List<Op> ops = new ArrayList<>();
        SortedMap<String, byte[]> x = new TreeMap<>();
        x.put("security.ima", IMA);
        x.put("trusted.overlay.opaque", "y".getBytes(StandardCharsets.UTF_8));
        x.put("user.big", SeededData.bytes(5, 2000));
        ops.add(new Op("etc", w -> w.addDirectory("etc", new EntryMetadata(0755, 0, 0, 100, x))));
        ops.add(new Op("etc/passwd", w -> w.addFile("etc/passwd", new EntryMetadata(0644, 0, 0, 200, x), in("root:x:0:0\n"))));
        ops.add(new Op("big-random", w -> w.addFile("big-random", EntryMetadata.of(0600, 1000, 1000, 300),
                new ByteArrayInputStream(SeededData.bytes(9, 700_000)))));
        ops.add(new Op("copy", w -> w.addFile("copy", EntryMetadata.of(0600, 1000, 1000, 300),
                new ByteArrayInputStream(SeededData.bytes(9, 700_000)))));
        ops.add(new Op("sparse", w -> w.addFile("sparse", EntryMetadata.of(0644, 0, 0, 1), new ByteArrayInputStream(sparse()))));
        ops.add(new Op("empty", w -> w.addFile("empty", EntryMetadata.of(0644, 0, 0, 1), in(""))));
        ops.add(new Op("dev/console", w -> w.addDevice("dev/console", EntryMetadata.of(0600, 0, 5, 1), 'c', 5, 1)));
        ops.add(new Op("dev/sda", w -> w.addDevice("dev/sda", EntryMetadata.of(0660, 0, 6, 1), 'b', 8, 0x12345)));
        ops.add(new Op("run/fifo", w -> w.addFifo("run/fifo", EntryMetadata.of(0644, 0, 0, 1))));
        ops.add(new Op("run/sock", w -> w.addSocket("run/sock", EntryMetadata.of(0755, 0, 0, 1))));
        ops.add(new Op("link", w -> w.addSymlink("link", EntryMetadata.of(0777, 0, 0, 1), "etc/passwd")));
        for (int i = 0; i < 700; i++) {
            String p = String.format("many/%04d-%s", i, "n".repeat(i % 50));
            int n = i;
            ops.add(new Op(p, w -> w.addFile(p, EntryMetadata.of(0644, n % 3, 0, n), in("file " + n % 13))));
        }
        return ops;
    }

    static byte[] sparse() {
        byte[] b = new byte[3 * 131072 + 17];
        System.arraycopy(SeededData.bytes(3, 1000), 0, b, 131072 * 2, 1000);
        return b;
    }

    static InputStream in(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] write(Path image, SquashfsOptions o, List<Op> ops) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, o)) {
            for (Op op : ops) {
                op.add.accept(w);
            }
            if (w.contains("etc/passwd")) {
                w.addHardLink("hard", "etc/passwd");
            }
            w.finish();
        }
        return Files.readAllBytes(image);
    }

    static Map<String, String> readAll(Path image) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        try (SquashfsImage img = SquashfsImage.open(image)) {
            img.walk(e -> {
                StringBuilder b = new StringBuilder(e.listingLine(e.path())).append(" ino=").append(e.inodeNumber())
                        .append(" nlink=").append(e.nlink());
                for (Map.Entry<String, byte[]> x : img.xattrs(e).entrySet()) {
                    b.append(' ').append(x.getKey()).append('=').append(HexFormat.of().formatHex(x.getValue()));
                }
                if (e.type() == SquashfsEntry.Type.FILE) {
                    try (InputStream in = img.open(e)) {
                        b.append(" sha=").append(HexFormat.of().formatHex(sha(in.readAllBytes())));
                    }
                }
                m.put(e.path(), b.toString());
            });
        }
        return m;
    }

    static byte[] sha(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "ZSTD", "XZ", "LZ4"})
    void everyEntryKindSurvives(Compression c) throws IOException {
        Path img = dir.resolve("a.sqfs");
        write(img, SquashfsOptions.defaults(c).withProcessors(3), ops());
        Map<String, String> m = readAll(img);
        assertThat(m.size()).isEqualTo(1 + 11 + 3 + 700 + 1); // root, entries, implicit dirs dev/run/many, hard link
        assertThat(m.get("etc/passwd")).contains("security.ima=" + HexFormat.of().formatHex(IMA))
                .contains("trusted.overlay.opaque=79").contains("nlink=2")
                .contains("sha=" + HexFormat.of().formatHex(sha("root:x:0:0\n".getBytes(StandardCharsets.UTF_8))));
        assertThat(m.get("hard")).isEqualTo(m.get("etc/passwd").replace("/etc/passwd", "/hard").replace(" etc/passwd", " hard"));
        assertThat(m.get("dev/sda")).startsWith("brw-rw---- 0/6").contains("  8,74565 ");
        assertThat(m.get("dev/console")).startsWith("crw------- 0/5").contains("  5,  1 ");
        assertThat(m.get("run/fifo")).startsWith("prw-r--r--");
        assertThat(m.get("run/sock")).startsWith("srwxr-xr-x");
        assertThat(m.get("link")).endsWith("link -> etc/passwd ino=" + m.get("link").replaceAll(".* ino=(\\d+).*", "$1") + " nlink=1");
        assertThat(m.get("sparse")).contains("sha=" + HexFormat.of().formatHex(sha(sparse())));
        assertThat(m.get("copy").replaceAll(".* sha=", "")).isEqualTo(m.get("big-random").replaceAll(".* sha=", ""));
        try (SquashfsImage i = SquashfsImage.open(img)) {
            assertThat(i.info().inodes()).isEqualTo(m.size() - 1); // the hard link shares an inode
            assertThat(i.info().ids()).isEqualTo(6); // 0, 1000, 5, 6, 1, 2
            assertThat(Files.size(img) % 4096).isZero();
        }
    }

    @Test
    void duplicatesAreNotCompressedAgainUnlessLongerThanTheHoldBack() throws IOException {
        int bs = 131072;
        byte[] small = SeededData.bytes(11, 3 * bs + 100); // 3 blocks + a tail in its own block
        byte[] large = SeededData.bytes(12, SquashfsWriter.HOLD + 2 * bs); // streams before its digest is known
        Path img = dir.resolve("dup.sqfs");
        SquashfsResult r;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.LZ4).withProcessors(2))) {
            w.addFile("a", EntryMetadata.of(0644, 0, 0, 0), new ByteArrayInputStream(small));
            assertThat(w.compressionJobs()).isEqualTo(4);
            w.addFile("b", EntryMetadata.of(0644, 0, 0, 0), new ByteArrayInputStream(small));
            assertThat(w.compressionJobs()).as("a duplicate within the hold-back is never compressed").isEqualTo(4);
            w.addFile("c", EntryMetadata.of(0644, 0, 0, 0), new ByteArrayInputStream(large));
            w.addFile("d", EntryMetadata.of(0644, 0, 0, 0), new ByteArrayInputStream(large));
            assertThat(w.compressionJobs()).as("a longer duplicate is compressed, then dropped").isEqualTo(4 + 2 * (large.length / bs));
            r = w.finish();
        }
        assertThat(r.duplicateFiles()).isEqualTo(2);
        assertThat(r.duplicateBytes()).isEqualTo(small.length + large.length);
        // random content is stored raw: LZ4's options record (2 + 8 bytes), then one copy of each file
        assertThat(r.dataBytes()).isEqualTo(10 + small.length + large.length);
        Map<String, String> m = readAll(img);
        assertThat(m.get("b").replaceAll(".* sha=", "")).isEqualTo(HexFormat.of().formatHex(sha(small)));
        assertThat(m.get("d").replaceAll(".* sha=", "")).isEqualTo(HexFormat.of().formatHex(sha(large)));
    }

    @Test
    void outputDoesNotDependOnThreadsAndMetadataNotOnAddOrder() throws IOException {
        SquashfsOptions o = SquashfsOptions.defaults(Compression.ZSTD).withLevel(3);
        byte[] a = write(dir.resolve("a"), o.withProcessors(1), ops());
        byte[] b = write(dir.resolve("b"), o.withProcessors(4), ops());
        assertThat(Arrays.equals(a, b)).as("1 vs 4 threads byte-identical").isTrue();
        // data blocks are laid out in the order files arrive (a tar's order); everything else is sorted
        List<Op> backward = new ArrayList<>(ops());
        Collections.reverse(backward);
        write(dir.resolve("c"), o.withProcessors(2), backward);
        assertThat(readAll(dir.resolve("c"))).isEqualTo(readAll(dir.resolve("a")));
    }

    @Test
    void namesSortByUnsignedBytesNotUtf16() throws IOException {
        // String.compareTo puts U+1F600 (surrogates D83D DE00) before U+E000; the kernel's byte order (EE.. < F0..) the other way
        List<Op> ops = List.of(new Op("a", w -> w.addFile("\uE000", EntryMetadata.of(0644, 0, 0, 0), in("p"))),
                new Op("b", w -> w.addFile("\uD83D\uDE00", EntryMetadata.of(0644, 0, 0, 0), in("e"))));
        Path img = dir.resolve("u.sqfs");
        write(img, SquashfsOptions.defaults(Compression.GZIP).withProcessors(1), ops);
        try (SquashfsImage i = SquashfsImage.open(img)) {
            List<String> names = i.list(i.root()).stream().map(SquashfsEntry::name).toList();
            assertThat(names).containsExactly("\uE000", "\uD83D\uDE00").isNotEqualTo(names.stream().sorted().toList());
        }
    }

    @Test
    void badNamesAndHardLinksToDirectoriesAreRefused() throws IOException {
        try (FileChannel ch = FileChannel.open(dir.resolve("x"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withProcessors(1))) {
            assertThatThrownBy(() -> w.addFile("a/../b", EntryMetadata.of(0644, 0, 0, 0), in(""))).isInstanceOf(FormatException.class);
            assertThatThrownBy(() -> w.addFile("n".repeat(257), EntryMetadata.of(0644, 0, 0, 0), in(""))).isInstanceOf(FormatException.class);
            w.addDirectory("d", EntryMetadata.of(0755, 0, 0, 0));
            assertThatThrownBy(() -> w.addHardLink("l", "d")).isInstanceOf(FormatException.class);
            assertThatThrownBy(() -> w.addHardLink("l", "missing")).isInstanceOf(FormatException.class);
            assertThatThrownBy(() -> w.addSymlink("s", EntryMetadata.of(0777, 0, 0, 0), "")).isInstanceOf(FormatException.class);
            w.finish();
            assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void hardLinkedDevicesSkippedWithoutRootDoNotAbortExtraction() throws IOException {
        Path img = dir.resolve("devlinks.sqfs");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withProcessors(1))) {
            w.addDevice("a-null", EntryMetadata.of(0666, 0, 0, 1), 'c', 1, 3);
            w.addHardLink("b-null", "a-null");
            w.addFile("c-file", EntryMetadata.of(0644, 0, 0, 1), in("kept\n"));
            w.finish();
        }
        List<String> warnings = new ArrayList<>();
        Path out = dir.resolve("out");
        try (SquashfsImage i = SquashfsImage.open(img)) {
            Extractor.extract(i, out, List.of(), false, warnings::add);
        }
        assertThat(warnings).contains("skipped device a-null (needs root)", "skipped device b-null (needs root)");
        assertThat(out.resolve("a-null")).doesNotExist();
        assertThat(out.resolve("b-null")).doesNotExist();
        assertThat(out.resolve("c-file")).hasContent("kept");
    }
}
