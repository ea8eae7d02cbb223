package dev.cairn.pipeline;

import java.time.Duration;

/**
 * What a build tells its face while it runs: steps as they start and finish, warnings (an expiring
 * certificate, an unreachable cache), and waits (another build holds the output directory). The
 * pipeline never prints; a face shows these on a terminal, in Maven's log, or nowhere
 * ({@link #NONE}). Called on the building thread.
 */
public interface BuildListener {
    /** Ignores everything. */
    BuildListener NONE = new BuildListener() {
    };

    /** Step {@code index} of {@code total} starts ({@code step} is its name, {@code label} a human description). */
    default void stepStarted(int index, int total, String step, String label) {
    }

    /** A step is done: how it went with the cache, and how long it took. */
    default void stepFinished(StepReport report, Duration took) {
    }

    /** Something the user should know; the build goes on. */
    default void warning(String message) {
    }

    /** Progress that is neither a step nor a warning (waiting for another build's lock). */
    default void info(String message) {
    }
}
