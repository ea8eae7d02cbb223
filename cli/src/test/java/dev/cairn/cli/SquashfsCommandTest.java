package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.cairn.testing.CorruptCorpus;
import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn squashfs …} in-process: options, outputs, exit codes, hostile images. */
class SquashfsCommandTest {
    /** Seed of the corrupt-image corpus: change it only together with a note in the commit. */
    static final long CORPUS_SEED = 20261125L;

    @TempDir
    Path dir;

    static MainTest.Run run(String... args) {
        return MainTest.run(args);
    }

    Path smallTree() throws IOException {
        Path t = dir.resolve("tree");
        Files.createDirectories(t.resolve("etc"));
        Files.writeString(t.resolve("etc/hostname"), "cairn\n");
        Files.write(t.resolve("random"), SeededData.bytes(11, 300_000));
        Files.writeString(t.resolve("skip.pyc"), "compiled\n");
        Files.createDirectories(t.resolve("cache/deep"));
        Files.writeString(t.resolve("cache/deep/x"), "x\n");
        Files.createSymbolicLink(t.resolve("link"), Path.of("etc/hostname"));
        return t;
    }

    @Test
    void xattrRegexesSelectAndContradictNoXattrs() throws IOException {
        Path t = smallTree();
        java.nio.file.attribute.UserDefinedFileAttributeView v = Files.getFileAttributeView(t.resolve("etc/hostname"),
                java.nio.file.attribute.UserDefinedFileAttributeView.class);
        v.write("keep", java.nio.ByteBuffer.wrap(new byte[] {1}));
        v.write("drop.me", java.nio.ByteBuffer.wrap(new byte[] {2}));
        Path img = dir.resolve("x.sqfs");
        MainTest.Run c = run("squashfs", "create", t.toString(), img.toString(), "-xattrs-include", "^user\\.", "--xattrs-exclude",
                "drop[.]", "--json");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("\"warnings\" : [ ]");
        MainTest.Run ls = run("squashfs", "ls", "--json", img.toString(), "etc/hostname");
        assertThat(ls.out()).contains("\"user.keep\" : \"01\"").doesNotContain("drop.me");

        MainTest.Run both = run("squashfs", "create", t.toString(), dir.resolve("y.sqfs").toString(), "-no-xattrs", "-xattrs-include", "x");
        assertThat(both.code()).isEqualTo(3);
        assertThat(both.err()).contains("--no-xattrs contradicts --xattrs-include/--xattrs-exclude");
        MainTest.Run bad = run("squashfs", "create", t.toString(), dir.resolve("z.sqfs").toString(), "--xattrs-exclude", "user.(");
        assertThat(bad.code()).isEqualTo(3);
        assertThat(bad.err()).contains("invalid regex 'user.(' in --xattrs-exclude");
        assertThat(dir.resolve("y.sqfs")).doesNotExist();
        assertThat(dir.resolve("z.sqfs")).doesNotExist();
    }

    @Test
    void createWithOptionsThenLsCatInfoExtract() throws IOException {
        Path t = smallTree();
        Path img = dir.resolve("out/img.sqfs");
        Path defs = dir.resolve("defs");
        Files.writeString(defs, "# devices without root\ndev d 755 0 0\ndev/null c 666 0 0 1 3\n\"with space\" i 644 0 0 p\n");
        MainTest.Run c = run("squashfs", "create", t.toString(), img.toString(), "--comp", "zstd", "--level", "3", "--block-size", "64K",
                "--all-root", "--exclude", "**.pyc", "-e", "cache", "--mtime", "1700000000", "--pseudo", "etc/hostname m 600 7 8",
                "--pseudo-file", defs.toString(), "--processors", "2", "--json");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("\"compression\" : \"zstd\"").contains("\"blockSize\" : 65536").contains("\"inodes\" : 8");
        MainTest.Run ls = run("squashfs", "ls", "-l", img.toString());
        assertThat(ls.code()).as(ls.err()).isZero();
        assertThat(ls.out().lines().toList()).containsExactly(
                "drwxr-xr-x 0/0                      81 2023-11-14 22:13 /",
                "drwxr-xr-x 0/0                      27 2023-11-14 22:13 /dev",
                "crw-rw-rw- 0/0                   1,  3 2023-11-14 22:13 /dev/null",
                "drwxr-xr-x 0/0                      31 2023-11-14 22:13 /etc",
                "-rw------- 7/8                       6 2023-11-14 22:13 /etc/hostname",
                "lrwxrwxrwx 0/0                      12 2023-11-14 22:13 /link -> etc/hostname",
                "-rw-r--r-- 0/0                  300000 2023-11-14 22:13 /random",
                "prw-r--r-- 0/0                       0 2023-11-14 22:13 /with space");
        MainTest.Run info = run("squashfs", "info", img.toString(), "--json");
        assertThat(info.out()).contains("\"mkfsTime\" : 1700000000").contains("\"compression\" : \"zstd\"");
        Path out = dir.resolve("x");
        MainTest.Run x = run("squashfs", "extract", img.toString(), out.toString(), "etc", "random");
        assertThat(x.code()).as(x.err()).isZero();
        assertThat(out.resolve("etc/hostname")).hasContent("cairn");
        assertThat(Files.mismatch(out.resolve("random"), t.resolve("random"))).isEqualTo(-1L);
        assertThat(out.resolve("link")).doesNotExist();
        assertThat(run("squashfs", "extract", img.toString(), out.toString()).code()).as("refuses a non-empty target").isEqualTo(3);
    }

    @Test
    void anImageInsideItsSourceHoldsNeitherItselfNorItsTempFile() throws IOException {
        Path t = smallTree();
        Path img = t.resolve("img.sqfs");
        for (int i = 0; i < 2; i++) { // the second run finds the first image in SOURCE too
            MainTest.Run c = run("squashfs", "create", t.toString(), img.toString(), "--mtime", "0");
            assertThat(c.code()).as(c.err()).isZero();
            MainTest.Run ls = run("squashfs", "ls", img.toString());
            assertThat(ls.code()).as(ls.err()).isZero();
            assertThat(ls.out().lines()).noneMatch(l -> l.contains("img.sqfs")).contains("/etc/hostname");
        }
        try (Stream<Path> s = Files.list(t)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void aTarClaimingAHugeExtendedHeaderIsACleanError() throws IOException {
        // a PAX header that says 3 GiB follow: the tar reader would try to hold it in memory
        byte[] h = new byte[512];
        byte[] name = "././@PaxHeader".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, h, 0, name.length);
        for (String[] f : new String[][] {{"100", "0000644"}, {"108", "0000000"}, {"116", "0000000"},
                {"124", String.format("%011o", 3L << 30)}, {"136", "00000000000"}, {"257", "ustar"}, {"263", "00"}}) {
            byte[] v = f[1].getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(v, 0, h, Integer.parseInt(f[0]), v.length);
        }
        h[156] = 'x';
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
        }
        byte[] c = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(c, 0, h, 148, c.length);
        Path tgz = dir.resolve("bomb.tar.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(tgz))) {
            out.write(h);
            out.write(new byte[4 << 20]); // the start of the "header" data: zeros compress to nothing
        }
        Path img = dir.resolve("bomb.sqfs");
        MainTest.Run r = run("squashfs", "create", tgz.toString(), img.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("PAX extended header of 3221225472 bytes").doesNotContain("Exception");
        assertThat(img).doesNotExist();

        Path garbage = dir.resolve("notes.txt"); // a short file that is no tar: not an empty image
        Files.writeString(garbage, "garbage\n");
        MainTest.Run g = run("squashfs", "create", garbage.toString(), img.toString());
        assertThat(g.code()).as(g.err()).isEqualTo(3);
        assertThat(g.err()).contains("not a tar archive");
        assertThat(img).doesNotExist();
    }

    @Test
    void anExtractionThatFailsMidwayLeavesNothingExtracted() throws IOException {
        Path t = dir.resolve("t");
        Files.createDirectories(t.resolve("a/b"));
        Files.writeString(t.resolve("a/b/first.txt"), "first\n");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 40_000; i++) {
            text.append("line ").append(i).append(" of a file whose last block is damaged\n");
        }
        Files.writeString(t.resolve("z-big.txt"), text);
        Path img = dir.resolve("img.sqfs");
        assertThat(run("squashfs", "create", t.toString(), img.toString(), "--comp", "gzip", "--no-fragments").code()).isZero();
        byte[] b = Files.readAllBytes(img);
        long inodeTable = java.nio.ByteBuffer.wrap(b, 64, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        b[(int) inodeTable - 40] ^= (byte) 0x5a; // inside the last data block: zlib's checksum catches it
        Files.write(img, b);

        Path fresh = dir.resolve("fresh");
        MainTest.Run r = run("squashfs", "extract", img.toString(), fresh.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(fresh).doesNotExist();
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertThat(run("squashfs", "extract", img.toString(), empty.toString()).code()).isEqualTo(3);
        try (Stream<Path> s = Files.list(empty)) {
            assertThat(s).isEmpty();
        }
        assertThat(run("squashfs", "extract", img.toString(), dir.resolve("part").toString(), "a").code())
                .as("the undamaged part alone").isZero();

        MainTest.Run missing = run("squashfs", "create", dir.resolve("no-such-tree").toString(),
                dir.resolve("new/dirs/img.sqfs").toString());
        assertThat(missing.code()).as(missing.err()).isEqualTo(3);
        assertThat(dir.resolve("new")).as("directories made for a failed output").doesNotExist();
    }

    @Test
    void badOptionsAreCleanErrorsAndLeaveNoOutput() throws IOException {
        Path t = smallTree();
        Path img = dir.resolve("img.sqfs");
        for (String[] bad : List.of(new String[] {"--comp", "lzo"}, new String[] {"--comp", "brotli"},
                new String[] {"--block-size", "3000"}, new String[] {"--comp", "gzip", "--level", "12"},
                new String[] {"--pseudo", "dev/x q 1 2 3"}, new String[] {"--pseudo", "x f 644 0 0 echo hi"})) {
            List<String> args = new ArrayList<>(List.of("squashfs", "create", t.toString(), img.toString()));
            args.addAll(List.of(bad));
            MainTest.Run r = run(args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", bad) + ": " + r.err()).isEqualTo(3);
            assertThat(r.err()).startsWith("cairn: ").doesNotContain("Exception").doesNotContain("internal error");
            try (Stream<Path> s = Files.list(dir)) {
                assertThat(s.map(p -> p.getFileName().toString())).containsExactly("tree");
            }
        }
    }

    @Test
    void corruptImagesAreCleanErrorsNeverHangsOrCrashes() throws IOException {
        Path t = smallTree();
        List<CorruptCorpus.Sample> corpus = new ArrayList<>();
        String[][] variants = {{"--comp", "gzip"}, {"--comp", "xz", "--no-fragments", "--block-size", "4K"},
                {"--comp", "lz4", "--always-use-fragments"}, {"--comp", "zstd", "--no-exports"}};
        int[] hot = new int[96];
        for (int i = 0; i < hot.length; i++) {
            hot[i] = i;
        }
        for (int v = 0; v < variants.length; v++) {
            Path img = dir.resolve("base" + v + ".sqfs");
            List<String> args = new ArrayList<>(List.of("squashfs", "create", t.toString(), img.toString(), "--pseudo", "dev/c c 600 0 0 4 4"));
            args.addAll(List.of(variants[v]));
            assertThat(run(args.toArray(String[]::new)).code()).isZero();
            corpus.addAll(CorruptCorpus.derive("v" + v, Files.readAllBytes(img), CORPUS_SEED + v, 60, hot));
        }
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(200);
        int failures = 0;
        List<String> problems = new ArrayList<>();
        for (CorruptCorpus.Sample s : corpus) {
            Path img = dir.resolve("corrupt.sqfs");
            Files.write(img, s.bytes());
            for (String[] cmd : new String[][] {{"info"}, {"ls", "-l"}, {"cat", null, "random"}, {"extract", null, "X"}}) {
                List<String> args = new ArrayList<>(List.of("squashfs", cmd[0]));
                if (cmd.length == 1 || cmd[1] != null) {
                    args.add(img.toString());
                    if (cmd.length > 1) {
                        args.add(cmd[1]);
                    }
                }
                if (cmd.length == 3) {
                    args.add(img.toString());
                    args.add(cmd[2].equals("X") ? dir.resolve("x-" + Math.abs(s.name().hashCode())).toString() : cmd[2]);
                }
                java.io.PrintStream saved = System.out;
                MainTest.Run r;
                try {
                    System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
                    r = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> run(args.toArray(String[]::new)), s.name());
                } finally {
                    System.setOut(saved);
                }
                if (r.code() == 3) {
                    failures++;
                }
                if ((r.code() != 0 && r.code() != 3) || r.err().contains("internal error") || r.err().contains("Exception")) {
                    problems.add(s.name() + " " + cmd[0] + ": exit " + r.code() + " " + r.err().strip());
                }
            }
        }
        assertThat(problems).isEmpty();
        // most mutations must be detected (some hit padding, unused bytes or a file nobody reads)
        assertThat(failures).isGreaterThan(corpus.size());
    }

    @Test
    void escapingSymlinksAreCreatedNeverFollowed() throws IOException {
        Path t = dir.resolve("t");
        Files.createDirectories(t);
        Files.writeString(t.resolve("a"), "a\n");
        Files.createSymbolicLink(t.resolve("escape"), Path.of("../../../../../../tmp/cairn-escape-target"));
        Path img = dir.resolve("i.sqfs");
        assertThat(run("squashfs", "create", t.toString(), img.toString()).code()).isZero();
        Path out = dir.resolve("out");
        assertThat(run("squashfs", "extract", img.toString(), out.toString()).code()).isZero();
        assertThat(Files.isSymbolicLink(out.resolve("escape"))).isTrue();
        assertThat(Path.of("/tmp/cairn-escape-target")).doesNotExist();
    }
}
