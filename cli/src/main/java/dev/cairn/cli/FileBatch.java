package dev.cairn.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * Many input files in one command (sign module, sign pe, verify pe, ima sign): the key is loaded
 * once by the caller, then each file is processed on its own. A file that fails is named on stderr
 * ({@code cairn: FILE: message}) and left untouched; the others go on unless {@code --fail-fast}.
 *
 * <p>Each file goes through two phases: {@link Task#prepare} (read, hash, sign: may run on worker
 * threads, a few files ahead) and {@link Pending#commit} (write the output atomically, print),
 * always on the calling thread and in input order. So outputs, messages and {@code --fail-fast}
 * behave exactly as in a sequential run: with {@code --fail-fast} nothing after the first failing
 * file is written, even if it was already prepared.
 *
 * <p>Exit code of a batch: 0 when every file succeeded, 1 when some did and some failed (each
 * failure's own code is in its message and in {@code --json}), else (nothing succeeded) the code of
 * the first failing file.
 */
public final class FileBatch {
    /** {@code --fail-fast}: stop at the first failing file. */
    public static final class FailFastOption {
        @CommandLine.Option(names = "--fail-fast",
                description = "With several files: stop at the first that fails (the ones before it stay done). "
                        + "Default: name each failing file and go on with the rest.")
        boolean failFast;

        public boolean enabled() {
            return failFast;
        }
    }

    /** The first phase of one file: read, check, sign. Must not change anything on disk a caller can see. */
    @FunctionalInterface
    public interface Task<R> {
        Pending<R> prepare(Path file) throws Exception;
    }

    /**
     * A prepared file: {@link #flush} makes its output durable (on an I/O thread), {@link #commit}
     * puts it in place and returns the result, {@link #close} discards what was not committed.
     */
    public interface Pending<R> extends AutoCloseable {
        R commit() throws Exception;

        /** Flushes the prepared output to disk (the slow half of an atomic write). */
        default void flush() throws IOException {
        }

        @Override
        default void close() throws IOException {
        }

        /** A prepared file with nothing left to write. */
        static <R> Pending<R> done(R result) {
            return () -> result;
        }

        /**
         * {@code bytes} written under a temporary name beside {@code target} (see
         * {@link Outputs#prepare}); flushed, renamed into place by commit, deleted by close.
         */
        static <R> Pending<R> writing(Path target, byte[] bytes, R result) {
            dev.cairn.io.AtomicOutput written = Outputs.prepare(target, bytes);
            return new Pending<>() {
                @Override
                public void flush() {
                    Outputs.flush(written, target);
                }

                @Override
                public R commit() {
                    Outputs.commit(written, target);
                    return result;
                }

                @Override
                public void close() throws IOException {
                    written.close();
                }
            };
        }
    }

    /** What happened to one file: a result, or the exit code and message of its failure. */
    public record Outcome<R>(Path file, R result, ExitCode failure, String error, Throwable cause) {
        public boolean ok() {
            return failure == null;
        }
    }

    /** The outcomes of a batch, in input order; files after a --fail-fast stop have none. */
    public record Result<R>(List<Outcome<R>> outcomes, int total) {
        public long succeeded() {
            return outcomes.stream().filter(Outcome::ok).count();
        }

        public long failed() {
            return outcomes.size() - succeeded();
        }

        /** Files not attempted because --fail-fast stopped the batch. */
        public int skipped() {
            return total - outcomes.size();
        }

        /**
         * 0 when every file succeeded; 1 when some succeeded and some failed (a partial batch: each
         * file's own code is in its message and in --json); when none succeeded, the first failure's code.
         */
        public int exitCode() {
            int first = outcomes.stream().filter(o -> !o.ok()).findFirst().map(o -> o.failure().code()).orElse(0);
            return first != 0 && succeeded() > 0 ? ExitCode.VERIFICATION_FAILED.code() : first;
        }

        /** {@code signed 498 of 500 modules; 2 failed} (and how many were not attempted after --fail-fast). */
        public String summary(String verb, String nouns) {
            StringBuilder s = new StringBuilder(verb + " " + succeeded() + " of " + total + " " + nouns);
            if (failed() > 0) {
                s.append("; ").append(failed()).append(" failed");
            }
            if (skipped() > 0) {
                s.append(", ").append(skipped()).append(" not attempted (--fail-fast)");
            }
            return s.toString();
        }

        /**
         * The per-file list for --json: each success's fields from {@code fields}, each failure as
         * {@code file}, {@code okKey: false}, {@code exitCode}, {@code error}.
         */
        public List<Map<String, Object>> json(String okKey, Function<R, Map<String, Object>> fields) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Outcome<R> o : outcomes) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file", o.file().toString());
                m.put(okKey, o.ok());
                if (o.ok()) {
                    m.putAll(fields.apply(o.result()));
                } else {
                    m.put("exitCode", o.failure().code());
                    m.put("error", o.error());
                }
                list.add(m);
            }
            return list;
        }
    }

    private FileBatch() {
    }

    /**
     * Refuses (usage error, before anything is touched) a batch in which two files would write the
     * same output, or one would overwrite another's input while that one may still be read.
     * {@code cmd} is asked for only to report such an error.
     */
    public static void requireDistinctOutputs(java.util.function.Supplier<CommandLine> cmd, List<Path> inputs, Function<Path, Path> output) {
        Map<Path, Path> outputs = new HashMap<>();
        java.util.Set<Path> in = new java.util.HashSet<>();
        for (Path p : inputs) {
            in.add(p.toAbsolutePath().normalize());
        }
        for (Path p : inputs) {
            Path out = output.apply(p).toAbsolutePath().normalize();
            Path before = outputs.putIfAbsent(out, p);
            if (before != null) {
                throw new CommandLine.ParameterException(cmd.get(), before.equals(p) || before.toAbsolutePath().normalize()
                        .equals(p.toAbsolutePath().normalize()) ? p + " is given twice"
                        : before + " and " + p + " would both write " + output.apply(p));
            }
            if (!out.equals(p.toAbsolutePath().normalize()) && in.contains(out)) {
                throw new CommandLine.ParameterException(cmd.get(), p + " would write " + output.apply(p) + ", which is also an input");
            }
        }
    }

    /**
     * Runs {@code task} over {@code files}: prepared on up to {@code threads} threads, committed in
     * order on this thread. Each failure is printed to {@code err} as it is reached.
     */
    public static <R> Result<R> run(List<Path> files, boolean failFast, int threads, PrintWriter err, Task<R> task) {
        List<Outcome<R>> outcomes = new ArrayList<>();
        int workers = Math.min(threads, files.size());
        // Flushes wait on the disk, not the CPU, and the file system merges concurrent ones (one
        // journal commit for several files): they get threads of their own.
        ExecutorService cpu = workers > 1 ? daemonPool(workers) : null;
        ExecutorService io = workers > 1 ? daemonPool(Math.min(4 * workers, 16)) : null;
        int ahead = workers > 1 ? 2 * workers + Math.min(4 * workers, 16) : 1;
        Deque<Future<Pending<R>>> window = new ArrayDeque<>();
        int next = 0;
        try {
            for (Path file : files) {
                // keep a few files prepared ahead of the one being committed: bounded memory and temp files
                while (next < files.size() && window.size() < ahead) {
                    Path f = files.get(next++);
                    window.add(cpu == null ? prepareNow(task, f) : CompletableFuture.supplyAsync(() -> prepare(task, f), cpu)
                            .thenApplyAsync(FileBatch::flush, io));
                }
                Outcome<R> o = commit(file, window.poll());
                outcomes.add(o);
                if (!o.ok()) {
                    err.println("cairn: " + o.error());
                    if (Main.stacktraceRequested()) {
                        o.cause().printStackTrace(err);
                    }
                    err.flush();
                    if (failFast) {
                        break;
                    }
                }
            }
        } finally {
            // files prepared but never committed (after --fail-fast): wait for them, then discard
            for (Future<Pending<R>> f : window) {
                try (Pending<R> p = f.get()) {
                    // discarded by close
                } catch (Exception ignored) {
                    // it would not have been committed anyway
                }
            }
            if (cpu != null) {
                cpu.shutdownNow();
                io.shutdownNow();
            }
        }
        return new Result<>(outcomes, files.size());
    }

    private static ExecutorService daemonPool(int n) {
        return Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "cairn-batch");
            t.setDaemon(true);
            return t;
        });
    }

    private static <R> Pending<R> prepare(Task<R> task, Path file) {
        try {
            return task.prepare(file);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
        }
    }

    private static <R> Pending<R> flush(Pending<R> p) {
        try {
            p.flush();
            return p;
        } catch (IOException | RuntimeException e) {
            try {
                p.close();
            } catch (IOException ignored) {
                // the flush failure is the one reported
            }
            throw e instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(e);
        }
    }

    private static <R> Future<Pending<R>> prepareNow(Task<R> task, Path file) {
        Pending<R> p = null;
        try {
            p = task.prepare(file);
            p.flush();
            return CompletableFuture.completedFuture(p);
        } catch (Exception e) {
            if (p != null) {
                try {
                    p.close();
                } catch (IOException ignored) {
                    // the first failure is the one reported
                }
            }
            return CompletableFuture.failedFuture(e);
        }
    }

    private static <R> Outcome<R> commit(Path file, Future<Pending<R>> prepared) {
        Pending<R> p;
        try {
            p = prepared.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
            return failure(file, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failure(file, new java.io.InterruptedIOException("interrupted"));
        }
        try (p) {
            return new Outcome<>(file, p.commit(), null, null, null);
        } catch (Exception e) {
            return failure(file, e);
        }
    }

    private static <R> Outcome<R> failure(Path file, Throwable t) {
        Throwable cause = t instanceof UncheckedIOException u ? u.getCause() : t;
        if (cause instanceof Error e) {
            throw e;
        }
        return new Outcome<>(file, null, ExceptionMapper.exitCode(cause), named(file, ExceptionMapper.message(cause)), cause);
    }

    /** {@code FILE: message}, unless the message already starts with the file's name. */
    static String named(Path file, String message) {
        String f = file.toString();
        return message.startsWith(f + ":") || message.startsWith(f + " ") ? message : f + ": " + message;
    }
}
