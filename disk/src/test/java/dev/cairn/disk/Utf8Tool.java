package dev.cairn.disk;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.opentest4j.AssertionFailedError;

/**
 * Runs an oracle tool under {@code LC_ALL=C.UTF-8} (ToolOracle forces {@code C}, under which mtools
 * shows non-ASCII long names as {@code _} and cannot match them in arguments).
 */
final class Utf8Tool {
    private Utf8Tool() {
    }

    static String runOk(ToolOracle tool, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(tool.executable().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C.UTF-8");
        pb.environment().put("MTOOLS_SKIP_CHECK", "0");
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionFailedError("timed out: " + cmd);
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionFailedError("`" + String.join(" ", cmd) + "` exited " + p.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionFailedError("interrupted");
        }
    }
}
