package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged launcher's progress line: drawn under a pseudo-terminal (util-linux {@code script}),
 * absent when standard error is a pipe or a file, absent under {@code CI=true} and with
 * {@code --json}, each time with the command's own output unchanged. {@code -Dcairn.progress.delay=0}
 * (through {@code CAIRN_OPTS}) lets the first frame come at the first tick (0.1 s) instead of after
 * 0.4 s, so inputs of a few tens of MiB are enough on a slow machine.
 */
class ProgressIT {
    static Path launcher;
    static ToolOracle script;

    @TempDir
    static Path dir;

    /** A frame: carriage return, the label, a bar and a percentage. */
    static Pattern frame(String label) {
        return Pattern.compile("\r" + Pattern.quote(label) + " \\[[#.]+\\] +\\d+% [^\r\n]+");
    }

    @BeforeAll
    static void setUp() throws IOException {
        launcher = LauncherIT.locate();
        script = ToolOracle.require("script", "bsdutils");
        Path tree = Files.createDirectories(dir.resolve("tree"));
        for (int i = 0; i < 4; i++) {
            SeededData.writeFile(tree.resolve("f" + i), 40 + i, 8 << 20);
        }
    }

    record Out(int code, String out, String err) {
    }

    /** Runs the launcher with standard error into a file (no terminal anywhere: stdin /dev/null, stdout a file). */
    static Out piped(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        environment(pb, env);
        Path o = Files.createTempFile(dir, "out", ".txt");
        Path e = Files.createTempFile(dir, "err", ".txt");
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).redirectOutput(o.toFile()).redirectError(e.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        return new Out(p.exitValue(), Files.readString(o, StandardCharsets.UTF_8), Files.readString(e, StandardCharsets.UTF_8));
    }

    /** Runs the launcher on a pseudo-terminal ({@code script -qec CMD /dev/null}): what the terminal showed, stdout and stderr mixed. */
    static Out terminal(Map<String, String> env, String... args) throws Exception {
        String line = java.util.stream.Stream.concat(java.util.stream.Stream.of(launcher.toString()), java.util.stream.Stream.of(args))
                .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        ProcessBuilder pb = new ProcessBuilder(script.executable().toString(), "-qec", line, "/dev/null");
        environment(pb, env);
        Path o = Files.createTempFile(dir, "tty", ".txt");
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).redirectErrorStream(true).redirectOutput(o.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        // the terminal turns \n into \r\n
        return new Out(p.exitValue(), Files.readString(o, StandardCharsets.UTF_8).replace("\r\n", "\n"), "");
    }

    private static void environment(ProcessBuilder pb, Map<String, String> env) {
        pb.environment().remove("CI"); // the CI job runs this with CI=true: each test says what it wants
        pb.environment().put("TERM", "xterm");
        pb.environment().put("CAIRN_CDS", "0"); // no first-run archive (and no first-run note on the terminal)
        pb.environment().put("CAIRN_OPTS", "-Dcairn.progress.delay=0");
        pb.environment().putAll(env);
    }

    /** The terminal's text with the progress frames (and the blanks that erase them) taken out. */
    static String withoutFrames(String tty) {
        return tty.replaceAll("\r[^\r\n]*(?=\r)", "").replace("\r", "");
    }

    static int frames(Pattern p, String tty) {
        Matcher m = p.matcher(tty);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Same command in a pipe, under CI=true on a terminal, and with --json on a terminal: no frame; the output is the same. */
    void checkQuietElsewhere(Pattern frame, Out onTerminal, String[] args, String[] jsonArgs) throws Exception {
        Out pipe = piped(Map.of(), args);
        assertThat(pipe.code()).as(pipe.err()).isZero();
        assertThat(pipe.err()).as("nothing on standard error in a pipe").isEmpty();
        assertThat(withoutFrames(onTerminal.out())).as("the command's own output is unchanged on a terminal").isEqualTo(pipe.out());
        Out ci = terminal(Map.of("CI", "true"), args);
        assertThat(ci.code()).isZero();
        assertThat(ci.out()).as("CI=true: no progress even on a terminal").doesNotContain("\r").isEqualTo(pipe.out());
        Out dumb = terminal(Map.of("TERM", "dumb"), args);
        assertThat(dumb.out()).as("TERM=dumb").doesNotContain("\r");
        Out json = terminal(Map.of(), jsonArgs);
        assertThat(json.code()).isZero();
        assertThat(json.out()).as("--json: no progress even on a terminal").doesNotContain("\r").startsWith("{");
        assertThat(frames(frame, json.out())).isZero();
    }

    @Test
    void squashfsCreate() throws Exception {
        String[] args = {"squashfs", "create", dir.resolve("tree").toString(), dir.resolve("a.sqfs").toString(), "--processors", "1"};
        Out tty = terminal(Map.of(), args);
        assertThat(tty.code()).as(tty.out()).isZero();
        Pattern frame = frame("creating a.sqfs");
        assertThat(frames(frame, tty.out())).as("progress frames on a terminal:\n" + tty.out()).isPositive();
        assertThat(tty.out()).as("bytes of the 32 MiB tree").contains("/32.0 MiB ");
        assertThat(tty.out()).as("the line is erased before the result").containsPattern("\r +\rCreated ");
        checkQuietElsewhere(frame, tty, args, append(args, "--json"));
    }

    @Test
    void verityFormat() throws Exception {
        Path data = dir.resolve("data.img");
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.setLength(512L << 20); // sparse: reads as zeros
        }
        String[] args = {"verity", "format", data.toString(), dir.resolve("data.hash").toString(), "--threads", "1",
                "--salt", "00", "--uuid", "12345678-1234-1234-1234-123456789abc"};
        Out tty = terminal(Map.of(), args);
        assertThat(tty.code()).as(tty.out()).isZero();
        Pattern frame = frame("hashing");
        assertThat(frames(frame, tty.out())).as("progress frames on a terminal:\n" + tty.out()).isPositive();
        assertThat(tty.out()).contains("/512.0 MiB ").containsPattern("\r +\rVERITY header information")
                .as("rate and time left").containsPattern("/512.0 MiB [0-9.]+ [KMG]iB/s ETA \\d+:\\d\\d");
        checkQuietElsewhere(frame, tty, args, append(args, "--json"));
    }

    @Test
    void ociCopyBetweenLayoutsShowsEachBlob() throws Exception {
        Out layer = piped(Map.of(), "oci", "layer", "add", dir.resolve("src") + ":1", dir.resolve("tree").toString(), "--type", "tar");
        assertThat(layer.code()).as(layer.err()).isZero();
        String[] args = {"oci", "copy", "oci:" + dir.resolve("src") + ":1", "oci:" + dir.resolve("dst-tty") + ":1"};
        Out tty = terminal(Map.of(), args);
        assertThat(tty.code()).as(tty.out()).isZero();
        // the config (blob 1) is too small to be drawn; the 32 MiB layer is blob 2
        Pattern frame = Pattern.compile("\rcopy #2 [0-9a-f]{12} \\[[#.]+\\] +\\d+% [^\r\n]*/32.0 MiB");
        assertThat(frames(frame, tty.out())).as("per-blob progress on a terminal:\n" + tty.out()).isPositive();
        // each later run copies into a fresh layout: same work, same output but for the destination
        String[] pipeArgs = {"oci", "copy", "oci:" + dir.resolve("src") + ":1", "oci:" + dir.resolve("dst-pipe") + ":1"};
        Out pipe = piped(Map.of(), pipeArgs);
        assertThat(pipe.code()).as(pipe.err()).isZero();
        assertThat(pipe.err()).isEmpty();
        assertThat(withoutFrames(tty.out())).isEqualTo(pipe.out().replace("dst-pipe", "dst-tty"));
        Out ci = terminal(Map.of("CI", "true"), "oci", "copy", "oci:" + dir.resolve("src") + ":1", "oci:" + dir.resolve("dst-ci") + ":1");
        assertThat(ci.code()).isZero();
        assertThat(ci.out()).doesNotContain("\r").isEqualTo(pipe.out().replace("dst-pipe", "dst-ci"));
    }

    static String[] append(String[] a, String... more) {
        String[] r = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, r, a.length, more.length);
        return r;
    }
}
