package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged distribution (bin/cairn from the assembly), run as a user runs it. */
class LauncherIT {
    static Path launcher;

    @TempDir
    Path dir;

    @BeforeAll
    static void find() throws IOException {
        launcher = locate();
    }

    /** The packaged bin/cairn under target/ (the assembly runs before the ITs). */
    static Path locate() throws IOException {
        Path target = Path.of(System.getProperty("basedir", "."), "target");
        try (Stream<Path> s = Files.walk(target, 5)) {
            return s.filter(p -> p.endsWith(Path.of("bin", "cairn")) && Files.isExecutable(p)).findFirst()
                    .orElseThrow(() -> new AssertionError("no packaged bin/cairn under " + target + ": run mvn package"));
        }
    }

    record Out(int code, String out, String err) {
    }

    Out cairn(List<String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Stream.concat(Stream.of(launcher.toString()), Stream.of(args)).toList());
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        for (String kv : env) {
            pb.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        Path o = Files.createTempFile(dir, "out", ".txt");
        Path e = Files.createTempFile(dir, "err", ".txt");
        pb.redirectOutput(o.toFile()).redirectError(e.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        Out r = new Out(p.exitValue(), Files.readString(o, StandardCharsets.UTF_8), Files.readString(e, StandardCharsets.UTF_8));
        Files.delete(o);
        Files.delete(e);
        return r;
    }

    @Test
    void versionTwiceSecondRunUsesTheClassDataArchive() throws Exception {
        Out first = cairn(List.of(), "--version");
        assertThat(first.code()).isZero();
        assertThat(first.out()).startsWith("cairn ");
        assertThat(first.err()).isEmpty();
        try (Stream<Path> s = Files.walk(dir.resolve("cache"))) {
            // an AppCDS archive, or an AOT cache when JAVA_HOME is a JDK 24+ (LauncherJdkIT runs each)
            assertThat(s.anyMatch(p -> p.toString().endsWith("cairn.jsa") || p.toString().endsWith("cairn.aot"))).isTrue();
        }
        Out second = cairn(List.of(), "--version");
        assertThat(second.out()).isEqualTo(first.out());
        assertThat(second.err()).isEmpty();
    }

    @Test
    void aNewArchiveRetiresAllButTheThreeNewest() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("cache").resolve("cairn"));
        long now = System.currentTimeMillis();
        for (int i = 1; i <= 5; i++) { // archives of earlier installations, 1005 the newest
            Path old = Files.createDirectories(cache.resolve(String.valueOf(1000 + i)));
            Files.write(old.resolve("cairn.jsa"), new byte[16]);
            Files.setLastModifiedTime(old, FileTime.fromMillis(now - (10 - i) * 86_400_000L));
        }
        Path notOurs = Files.createDirectories(cache.resolve("notes"));
        Files.setLastModifiedTime(notOurs, FileTime.fromMillis(now - 100 * 86_400_000L));
        assertThat(cairn(List.of(), "--version").code()).isZero();
        List<String> left;
        try (Stream<Path> s = Files.list(cache)) {
            left = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(left).hasSize(4).contains("1004", "1005", "notes");
        String fresh = left.stream().filter(n -> !List.of("1004", "1005", "notes").contains(n)).findFirst().orElseThrow();
        Path recorded = cache.resolve(fresh).resolve("cairn.jsa");
        assertThat(Files.exists(recorded) ? recorded : cache.resolve(fresh).resolve("cairn.aot")).isNotEmptyFile();
    }

    /**
     * Which classes a run loaded from the jars or the JDK's modules instead of the archive, which it
     * loaded at all, and which it initialised (an AOT cache, JDK 24+, loads every class it holds at
     * start, used or not: what a run set up shows in the initialised ones).
     */
    record ClassLoads(List<String> notArchived, List<String> all, List<String> initialised) {
    }

    ClassLoads classLoads(String... args) throws Exception {
        Path log = dir.resolve("classes-" + System.nanoTime() + ".log");
        cairn(List.of("CAIRN_OPTS=-Xlog:class+load=info,class+init=info:file=" + log), args);
        List<String> lines = Files.readAllLines(log);
        List<String> loads = lines.stream().filter(l -> l.contains("[class,load]")).toList();
        return new ClassLoads(loads.stream().filter(l -> l.contains("source: file:") || l.contains("source: jrt:")).map(l -> l.split(" ")[1]).toList(),
                loads.stream().map(l -> l.split(" ")[1]).toList(),
                lines.stream().filter(l -> l.contains("[class,init]") && l.contains(" Initializing '"))
                        .map(l -> l.substring(l.indexOf(" Initializing '") + 15, l.indexOf('\'', l.indexOf(" Initializing '") + 15)).replace('/', '.'))
                        .toList());
    }

    @Test
    void theArchiveCoversPicocliAndTheRegistryClient() throws Exception {
        // the distribution's picocli carries stack map frames (class-file 52): archivable
        Path picocli;
        try (Stream<Path> s = Files.list(launcher.getParent().getParent().resolve("lib"))) {
            picocli = s.filter(p -> p.getFileName().toString().startsWith("picocli-")).findFirst().orElseThrow();
        }
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(picocli.toFile())) {
            List<? extends java.util.zip.ZipEntry> classes = z.stream()
                    .filter(e -> e.getName().startsWith("picocli/") && e.getName().endsWith(".class")).toList();
            assertThat(classes).hasSizeGreaterThan(100);
            for (java.util.zip.ZipEntry e : classes) {
                byte[] head = z.getInputStream(e).readNBytes(8);
                assertThat(((head[6] & 0xff) << 8) | (head[7] & 0xff)).as(e.getName()).isEqualTo(52);
            }
        }
        assertThat(cairn(List.of(), "--version").code()).isZero(); // first run: records the archive
        Files.write(dir.resolve("tiny.img"), new byte[4096]);
        ClassLoads verity = classLoads("verity", "format", dir.resolve("tiny.img").toString(), dir.resolve("tiny.hash").toString());
        assertThat(verity.notArchived()).noneMatch(c -> c.startsWith("picocli."));
        // a registry command against a closed loopback port: HTTP client from the archive, no TLS set-up
        ClassLoads registry = classLoads("oci", "inspect", "docker://127.0.0.1:9/cairn/none:1");
        assertThat(registry.all()).contains("jdk.internal.net.http.HttpClientImpl");
        assertThat(registry.initialised()).contains("jdk.internal.net.http.HttpClientImpl");
        assertThat(registry.notArchived()).noneMatch(c -> c.startsWith("jdk.internal.net.http.") || c.startsWith("picocli.")
                || c.startsWith("com.fasterxml.jackson."));
        assertThat(registry.initialised()).noneMatch(c -> c.startsWith("sun.security.ssl."));
    }

    @Test
    void fourGibibytesFormatWithSixtyFourMebibytesOfHeap() throws Exception {
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        Path data = dir.resolve("big.img");
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.setLength(4L << 30); // sparse: reads as zeros, costs no disk
            f.seek(123L << 20);
            f.write("not only zeros".getBytes(StandardCharsets.US_ASCII));
        }
        String salt = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        String uuid = "12345678-1234-1234-1234-123456789abc";
        Out r = cairn(List.of("CAIRN_OPTS=-Xmx64m"), "verity", "format", data.toString(), dir.resolve("ours").toString(),
                "--salt", salt, "--uuid", uuid);
        assertThat(r.code()).as(r.err()).isZero();
        String vs = veritysetup.run(Duration.ofMinutes(5), "format", data.toString(), dir.resolve("theirs").toString(),
                "--salt", salt, "--uuid", uuid).assertExit(0).stdout();
        assertThat(r.out().lines().filter(l -> l.startsWith("Root hash")).findFirst())
                .isEqualTo(vs.lines().filter(l -> l.startsWith("Root hash")).findFirst());
        assertThat(Files.mismatch(dir.resolve("ours"), dir.resolve("theirs"))).isEqualTo(-1);
    }

    @Test
    void interruptedFormatLeavesNothingBehind() throws Exception {
        Path data = dir.resolve("big.img");
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.setLength(8L << 30);
        }
        Path out = dir.resolve("work");
        Files.createDirectories(out);
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "verity", "format", data.toString(),
                out.resolve("tree").toString(), "--fec-device", out.resolve("fec").toString(), "--threads", "1");
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile());
        Process p = pb.start();
        // wait until the temporary outputs exist, then press Ctrl-C
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && listing(out).isEmpty()) {
            Thread.sleep(20);
        }
        assertThat(listing(out)).as("temporary outputs appear while formatting").isNotEmpty();
        p.toHandle().descendants().forEach(h -> signal(h.pid()));
        signal(p.pid());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(listing(out)).as("no half-written artifact after SIGINT").isEmpty();
    }

    static void signal(long pid) {
        try {
            new ProcessBuilder("sh", "-c", "kill -INT " + pid).start().waitFor(); // the shell builtin: no procps needed
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static List<String> listing(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
