package dev.cairn.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.cli.TestEnvironment;
import dev.cairn.pipeline.StepReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code cairn build}'s step lines: unchanged off a terminal; on a terminal, a running step's line with a spinner and its time. */
class TerminalListenerTest {
    static final String PLAIN = "[1/8] root filesystem -> SquashFS + dm-verity tree ...\n"
            + "cairn: warning: the cache at registry.example is unreachable\n"
            + "      rootfs done (2.5 s)\n"
            + "[2/8] dm-verity root-hash signature ...\n"
            + "      roothash cached (0.0 s)\n";

    final StringWriter text = new StringWriter();
    Map<String, String> savedEnv;

    @BeforeEach
    void environment() {
        savedEnv = TestEnvironment.swap(Map.of("TERM", "xterm"));
    }

    @AfterEach
    void restore() {
        TestEnvironment.swap(savedEnv);
        System.clearProperty("cairn.stderr.tty");
        System.clearProperty("cairn.progress.delay");
    }

    void build(BuildCommand.TerminalListener l, Runnable duringFirstStep) {
        l.stepStarted(1, 8, "rootfs", "root filesystem -> SquashFS + dm-verity tree");
        duringFirstStep.run();
        l.warning("the cache at registry.example is unreachable");
        l.stepFinished(new StepReport("rootfs", StepReport.Cache.MISS, null, "k", List.of()), Duration.ofMillis(2500));
        l.stepStarted(2, 8, "roothash", "dm-verity root-hash signature");
        l.stepFinished(new StepReport("roothash", StepReport.Cache.HIT, "local", "k", List.of()), Duration.ZERO);
        l.close();
    }

    @Test
    void offATerminalTheLinesAreAsBefore() {
        System.setProperty("cairn.stderr.tty", "0");
        build(new BuildCommand.TerminalListener(new PrintWriter(text), true), () -> { });
        assertThat(text.toString()).isEqualTo(PLAIN);
    }

    @Test
    void onATerminalARunningStepHasASpinnerLineThatTheResultReplaces() {
        System.setProperty("cairn.stderr.tty", "1");
        System.setProperty("cairn.progress.delay", "0");
        build(new BuildCommand.TerminalListener(new PrintWriter(text), true), () -> {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!text.toString().contains("\r      rootfs | ") && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        });
        String tty = text.toString();
        assertThat(tty).containsPattern("\r      rootfs \\| \\d+\\.\\d s");
        assertThat(tty).as("erased before the warning").containsPattern("\r +\rcairn: warning: ");
        assertThat(tty.replaceAll("\r[^\r\n]*(?=\r)", "").replace("\r", "")).isEqualTo(PLAIN);
    }

    @Test
    void quietPrintsNoStepsAndNoSpinner() {
        System.setProperty("cairn.stderr.tty", "1");
        System.setProperty("cairn.progress.delay", "0");
        build(new BuildCommand.TerminalListener(new PrintWriter(text), false), () -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        assertThat(text.toString()).isEqualTo("cairn: warning: the cache at registry.example is unreachable\n");
    }
}
