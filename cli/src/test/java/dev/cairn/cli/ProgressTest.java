package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The progress line: when it draws, how often, what a frame says, and that it leaves a clean line. */
class ProgressTest {
    final StringWriter text = new StringWriter();
    final PrintWriter err = new PrintWriter(text);
    final AtomicLong now = new AtomicLong(1_000_000_000L);
    String savedTty = System.getProperty("cairn.stderr.tty");
    Map<String, String> savedEnv;

    Progress bar(long total, long delayMs) {
        return new Progress(err, "hashing", total, Progress.Unit.BYTES, true, now::get, delayMs * 1_000_000L);
    }

    void advanceClock(long ms) {
        now.addAndGet(ms * 1_000_000L);
    }

    @AfterEach
    void restore() {
        if (savedTty == null) {
            System.clearProperty("cairn.stderr.tty");
        } else {
            System.setProperty("cairn.stderr.tty", savedTty);
        }
        if (savedEnv != null) {
            Environment.swap(savedEnv);
        }
    }

    @Test
    void nothingBeforeTheDelaySoQuickCommandsPrintNothing() {
        Progress p = bar(1000, 400);
        p.advance(500);
        advanceClock(300);
        p.tick();
        assertThat(text.toString()).isEmpty();
        p.close();
        assertThat(text.toString()).as("a line never drawn is not erased either").isEmpty();
    }

    @Test
    void redrawsAtMostTenTimesASecond() {
        Progress p = bar(10_000, 0);
        for (int i = 0; i < 1000; i++) { // a tick every millisecond for one second
            p.advance(10);
            p.tick();
            advanceClock(1);
        }
        assertThat(p.frames()).isBetween(9, 10);
        assertThat(text.toString().chars().filter(c -> c == '\r').count()).isEqualTo(p.frames());
        p.close();
    }

    @Test
    void closeErasesTheLineAndLaterTicksDrawNothing() {
        Progress p = bar(100, 0);
        p.advance(42);
        p.tick();
        String frame = text.toString();
        assertThat(frame).isEqualTo("\rhashing [############..................]  42% 42 B/100 B");
        p.close();
        String all = text.toString();
        String tail = all.substring(frame.length());
        assertThat(tail).isEqualTo("\r" + " ".repeat(frame.length() - 1) + "\r");
        advanceClock(1000);
        p.tick();
        assertThat(text.toString()).isEqualTo(all);
        assertThat(all).doesNotContain("\n");
    }

    @Test
    void aShorterFrameCoversTheLongerOneBeforeIt() {
        Progress p = bar(5L << 30, 0);
        p.advance(1L << 30);
        p.tick();
        int first = text.toString().length() - 1;
        p.restart("next", -1);
        advanceClock(200);
        p.tick();
        String second = text.toString().substring(first + 1);
        assertThat(second).startsWith("\rnext / 0 B   ");
        assertThat(second.length() - 1).as("padded with spaces to the width of the frame before").isEqualTo(first);
        p.close();
    }

    @Test
    void interjectedLinesGoAboveTheBar() {
        Progress p = bar(100, 0);
        p.tick();
        int drawn = text.toString().length();
        p.interject(() -> err.println("cairn: warning: something"));
        assertThat(text.toString().substring(drawn)).startsWith("\r ").contains("\rcairn: warning: something\n");
        advanceClock(200);
        p.tick();
        assertThat(text.toString()).endsWith("\n\rhashing [..............................]   0% 0 B/100 B");
        p.close();
    }

    @Test
    void framesSayBytesRateAndTimeLeft() {
        long s = 1_000_000_000L;
        assertThat(Progress.frame("hashing", 512L << 20, 1L << 30, Progress.Unit.BYTES, 2 * s, 0))
                .isEqualTo("hashing [############.............]  50% 512.0 MiB/1.0 GiB 256.0 MiB/s ETA 0:02");
        assertThat(Progress.frame("creating rootfs.img", 512L << 20, 1L << 30, Progress.Unit.BYTES, 2 * s, 0)).as("less room, a shorter bar")
                .isEqualTo("creating rootfs.img [######.......]  50% 512.0 MiB/1.0 GiB 256.0 MiB/s ETA 0:02");
        assertThat(Progress.frame("reading", 3L << 20, -1, Progress.Unit.BYTES, 3 * s, 1))
                .isEqualTo("reading / 3.0 MiB 1.0 MiB/s");
        assertThat(Progress.frame("      rootfs", 0, -1, Progress.Unit.NONE, 12_300_000_000L, 2))
                .isEqualTo("      rootfs - 12.3 s");
        assertThat(Progress.frame("x", 200, 100, Progress.Unit.BYTES, 0, 0)).as("a retried upload never shows more than 100%")
                .isEqualTo("x [" + "#".repeat(Progress.MAX_BAR) + "] 100% 100 B/100 B");
        String longLabel = "push sha256:" + "ab".repeat(32);
        assertThat(Progress.frame(longLabel, 1, 2, Progress.Unit.BYTES, s, 0)).hasSizeLessThanOrEqualTo(Progress.WIDTH)
                .startsWith("push sha256:abab").contains("... [");
        assertThat(Progress.clock(3725)).isEqualTo("1:02:05");
        assertThat(Progress.bytes(1023)).isEqualTo("1023 B");
    }

    @Test
    void countingStreamAdvances() throws Exception {
        Progress p = bar(10, 0);
        try (InputStream in = p.counting(new ByteArrayInputStream(new byte[10]))) {
            in.read();
            in.readNBytes(4);
            in.skip(5);
        }
        p.tick();
        assertThat(text.toString()).contains("100% 10 B/10 B");
    }

    @Test
    void notWantedWithJsonUnderCiWithADumbTerminalOrWhenSwitchedOff() {
        System.setProperty("cairn.stderr.tty", "1");
        savedEnv = Environment.swap(Map.of());
        assertThat(Progress.wanted(false)).isTrue();
        assertThat(Progress.wanted(true)).isFalse();
        for (Map.Entry<String, String> off : Map.of("CI", "true", "TERM", "dumb", "CAIRN_PROGRESS", "0").entrySet()) {
            Map<String, String> env = new HashMap<>();
            env.put(off.getKey(), off.getValue());
            Environment.swap(env);
            assertThat(Progress.wanted(false)).as(off.toString()).isFalse();
        }
        Environment.swap(Map.of("TERM", "xterm-256color", "CI", "false"));
        assertThat(Progress.wanted(false)).isTrue();
        System.setProperty("cairn.stderr.tty", "0");
        assertThat(Progress.wanted(false)).as("the launcher found no terminal on fd 2").isFalse();
    }

    @Test
    void withoutTheLaunchersWordStandardErrorOfThisJvmIsNotATerminal() {
        System.clearProperty("cairn.stderr.tty");
        // surefire's forked JVM writes fd 2 to a pipe or a file, never to a terminal
        assertThat(Progress.stderrIsTerminal()).isFalse();
    }

    @Test
    void anUnwantedProgressPrintsNothingAndStartsNoThread() {
        System.setProperty("cairn.stderr.tty", "0");
        long before = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("cairn-progress")).count();
        Progress p = Progress.start(err, "hashing", 100, false);
        p.advance(100);
        p.interject(() -> err.print("line"));
        p.close();
        assertThat(p.enabled()).isFalse();
        assertThat(text.toString()).isEqualTo("line");
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("cairn-progress")).count()).isEqualTo(before);
    }
}
