package dev.cairn.cli;

import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A command that reads its {@code @Spec} only through {@link #of}, and so can start before the
 * spec exists. On the fast path ({@link FastPath}) the spec is a stand-in CommandLine made on a
 * second thread, which costs 10-15 ms of a fresh JVM (picocli's classes, converters and usage
 * model, and java.lang.invoke's set-up for the lambdas of its regular expressions); a command like
 * {@code uki inspect} that needs it only to print its result parses and hashes its file meanwhile
 * instead of waiting for it. Such a command has no option setter that uses the spec (FastPathTest
 * checks the source). Run by picocli, the spec is injected as usual and {@link #of} returns it.
 */
public interface LazySpec {
    /** The spec the fast path will supply, for the command running on this thread. */
    ThreadLocal<Supplier<CommandLine>> PENDING = new ThreadLocal<>();

    /** {@code injected} when picocli (or the fast path) injected it, else the fast path's, waiting for it to be made. */
    static CommandSpec of(CommandSpec injected) {
        if (injected != null) {
            return injected;
        }
        Supplier<CommandLine> pending = PENDING.get();
        if (pending == null) {
            throw new IllegalStateException("no command line for this command (not run by picocli nor by the fast path)");
        }
        return pending.get().getCommandSpec();
    }
}
