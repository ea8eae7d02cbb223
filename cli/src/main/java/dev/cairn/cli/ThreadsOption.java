package dev.cairn.cli;

import picocli.CommandLine.Option;

/** {@code --threads N}: worker threads (default: all processors). */
public final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: number of processors).")
    Integer threads;

    public int threads() {
        if (threads == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("--threads must be between 1 and 1024, not " + threads);
        }
        return threads;
    }
}
