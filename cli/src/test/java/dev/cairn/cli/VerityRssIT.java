package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged launcher's {@code verity format} and {@code verity verify} of a 4 GiB (sparse) file
 * keep their peak resident set under 256 MiB, measured by {@code /usr/bin/time}: the data is read
 * through a small buffer per thread, never mapped whole (mapping it made the resident set as large
 * as the file, 4.2 GB here).
 */
class VerityRssIT {
    private static final long SIZE = 4L << 30;
    private static final long LIMIT_KIB = 256 * 1024;
    private static final String SALT = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private static final String UUID = "12345678-1234-1234-1234-123456789abc";
    /** veritysetup 2.6.1 format of 4 GiB of zeros with SALT and UUID (Root hash: line). */
    private static final String ROOT = "0a585294a4234004f1140200e84cd8c9645681f2750a190cf994e2e13d268d9f";

    @TempDir
    Path dir;

    record Measured(int code, String out, String err, long maxRssKib) {
    }

    /** Runs the launcher under {@code /usr/bin/time -f %M}, with its start-up cache in {@code dir}. */
    private Measured measure(Path time, Path launcher, String... args) throws Exception {
        Path rss = dir.resolve("rss.txt");
        List<String> cmd = new ArrayList<>(List.of(time.toString(), "-f", "%M", "-o", rss.toString(), launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        pb.redirectOutput(dir.resolve("out.txt").toFile());
        pb.redirectError(dir.resolve("err.txt").toFile());
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
        String err = Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8);
        List<String> lines = Files.readAllLines(rss);
        // /usr/bin/time writes "Command exited with non-zero status N" before the figure when the command fails
        long kib = Long.parseLong(lines.get(lines.size() - 1).strip());
        return new Measured(p.exitValue(), out, err, kib);
    }

    @Test
    void formatAndVerifyOfFourGibStayUnder256MibResident() throws Exception {
        Path time = ToolOracle.requireAt(Path.of("/usr/bin/time"), "time").executable();
        Path launcher = LauncherIT.locate();
        Path data = dir.resolve("data.img");
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.setLength(SIZE); // sparse: no disk space, and reads of holes cost no I/O
        }
        Path hash = dir.resolve("data.hash");
        // the first run records the launcher's start-up archive; measure the runs after it
        assertThat(measure(time, launcher, "--version").code()).isZero();

        Measured format = measure(time, launcher, "verity", "format", data.toString(), hash.toString(), "--salt", SALT,
                "--uuid", UUID);
        assertThat(format.code()).as(format.err()).isZero();
        assertThat(format.out()).containsPattern("Root hash:\\s+" + ROOT);
        System.out.println("verity format of 4 GiB: peak RSS " + format.maxRssKib() / 1024 + " MiB");
        assertThat(format.maxRssKib()).as("peak RSS of verity format of 4 GiB, KiB").isPositive().isLessThan(LIMIT_KIB);

        Measured verify = measure(time, launcher, "verity", "verify", data.toString(), hash.toString(), ROOT);
        assertThat(verify.code()).as(verify.err()).isZero();
        System.out.println("verity verify of 4 GiB: peak RSS " + verify.maxRssKib() / 1024 + " MiB");
        assertThat(verify.maxRssKib()).as("peak RSS of verity verify of 4 GiB, KiB").isPositive().isLessThan(LIMIT_KIB);
    }

    /** The measurement itself is not blind: a process that does hold 300 MiB shows it. */
    @Test
    void theMeasurementSeesALargeResidentSet() throws Exception {
        Path time = ToolOracle.requireAt(Path.of("/usr/bin/time"), "time").executable();
        Path rss = dir.resolve("rss.txt");
        // 300 MiB of real (non-sparse) file content read into the page cache and then into a
        // shell-owned buffer would be slow; a JVM that touches a 300 MiB array is simple and exact
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path src = dir.resolve("Touch.java");
        Files.writeString(src, "class Touch { public static void main(String[] a) { byte[] b = new byte[300 << 20];"
                + " for (int i = 0; i < b.length; i += 4096) b[i] = 1; System.out.println(b[4096]); } }");
        Process p = new ProcessBuilder(time.toString(), "-f", "%M", "-o", rss.toString(), java, "-Xmx1g", src.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("touch.txt").toFile()).start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("touch.txt"))).isZero();
        List<String> lines = Files.readAllLines(rss);
        assertThat(Long.parseLong(lines.get(lines.size() - 1).strip())).isGreaterThan(300L * 1024);
    }
}
