package dev.cairn.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

/**
 * An external tool used as an independent oracle. When the tool is missing the test is skipped on
 * a developer machine but <b>fails</b> under {@code CI=true}, so CI can never pass by skipping.
 * Runs never hang: a timeout kills the process tree and fails the test.
 */
public final class ToolOracle {
    /** The timeout {@link #runOk} uses. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    private static final List<String> EXTRA_DIRS = List.of("/usr/sbin", "/sbin", "/usr/local/sbin");

    private final Path executable;

    private ToolOracle(Path executable) {
        this.executable = executable;
    }

    /** The tool, or a skip (locally) / failure (CI) naming the Debian package to install. */
    public static ToolOracle require(String tool, String debianPackage) {
        return require(tool, debianPackage, System.getenv("CI"), System.getenv("PATH"));
    }

    static ToolOracle require(String tool, String debianPackage, String ciEnv, String path) {
        Path found = locate(tool, path);
        if (found != null) {
            return new ToolOracle(found);
        }
        String msg = "oracle tool " + tool + " is missing: .ci/run must install Debian package " + debianPackage;
        if ("true".equalsIgnoreCase(ciEnv)) {
            throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(msg);
        return null; // unreachable
    }

    /** A tool installed outside PATH (e.g. {@code /usr/lib/systemd/systemd-measure}); same skip/fail rule. */
    public static ToolOracle requireAt(Path executable, String debianPackage) {
        requireFile(executable, debianPackage);
        if (!Files.isExecutable(executable)) {
            missing(executable + " is not executable", debianPackage);
        }
        return new ToolOracle(executable);
    }

    /** A file a test needs from a Debian package (a stub, a firmware image, a Python module); same skip/fail rule. */
    public static Path requireFile(Path file, String debianPackage) {
        if (!Files.isRegularFile(file)) {
            missing(file + " is missing", debianPackage);
        }
        return file;
    }

    /**
     * npm packages installed under {@code prefix}/node_modules from its committed lock file (the
     * oracles that only npm has, e.g. {@code jose}); same skip/fail rule. Returns {@code prefix}.
     */
    public static Path requireNodeModules(Path prefix, String... packages) {
        for (String p : packages) {
            if (!Files.isRegularFile(prefix.resolve("node_modules").resolve(p).resolve("package.json"))) {
                String msg = "oracle npm package " + p + " is missing under " + prefix.toAbsolutePath()
                        + "/node_modules: .ci/run must run `npm ci --prefix " + prefix + "`";
                if (isCi()) {
                    throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
                }
                Assumptions.abort(msg);
            }
        }
        return prefix;
    }

    private static void missing(String what, String debianPackage) {
        String msg = "oracle input " + what + ": .ci/run must install Debian package " + debianPackage;
        if (isCi()) {
            throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(msg);
    }

    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    static Path locate(String tool, String path) {
        List<String> dirs = new ArrayList<>();
        if (path != null) {
            dirs.addAll(Arrays.asList(path.split(java.io.File.pathSeparator)));
        }
        dirs.addAll(EXTRA_DIRS);
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, tool);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    public Path executable() {
        return executable;
    }

    /** Runs with the default timeout and asserts exit 0. */
    public Result runOk(String... args) {
        return run(DEFAULT_TIMEOUT, args).assertExit(0);
    }

    public Result run(Duration timeout, String... args) {
        return run(timeout, null, List.of(args), null);
    }

    public Result run(Duration timeout, Path workDir, List<String> args, byte[] stdin) {
        List<String> cmd = new ArrayList<>();
        cmd.add(executable.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        pb.environment().put("LC_ALL", "C");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", cmd), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread o = pump(p.getInputStream(), out);
        Thread e = pump(p.getErrorStream(), err);
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        } catch (IOException ignored) {
            // the tool may not read stdin
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionFailedError("timed out after " + timeout + ": " + String.join(" ", cmd));
            }
            o.join();
            e.join();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new AssertionFailedError("interrupted: " + String.join(" ", cmd));
        }
        return new Result(String.join(" ", cmd), p.exitValue(), out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    private static Thread pump(InputStream in, ByteArrayOutputStream sink) {
        Thread t = new Thread(() -> {
            try (in) {
                in.transferTo(sink);
            } catch (IOException ignored) {
                // process killed
            }
        }, "oracle-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** What a tool run produced. */
    public record Result(String command, int exitCode, String stdout, String stderr) {
        public Result assertExit(int expected) {
            if (exitCode != expected) {
                throw new AssertionFailedError("`" + command + "` exited " + exitCode + ", expected " + expected
                        + "\nstdout: " + stdout + "\nstderr: " + stderr);
            }
            return this;
        }
    }
}
