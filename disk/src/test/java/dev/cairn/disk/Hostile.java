package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.cairn.io.FormatException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.opentest4j.AssertionFailedError;

/**
 * Runs a reader on one corrupt input: it must return or throw a {@link FormatException} — no other
 * exception — within 2 s, allocating less than 32 MiB.
 */
final class Hostile {
    static final Duration TIME = Duration.ofSeconds(2);
    static final long MAX_ALLOCATED = 32L << 20;

    private Hostile() {
    }

    /** The outcome: the reader's result, or the FormatException it threw. */
    static Object run(String name, Callable<?> reader) {
        return assertTimeoutPreemptively(TIME, () -> {
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().getId();
            long before = mx.getThreadAllocatedBytes(tid);
            Object outcome;
            try {
                outcome = reader.call();
            } catch (FormatException e) {
                assertThat(e.getMessage()).as(name).isNotBlank();
                outcome = e;
            } catch (Exception | Error e) {
                throw new AssertionFailedError(name + ": " + e.getClass().getName() + " instead of a FormatException", e);
            }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            assertThat(allocated).as(name + ": bytes allocated").isLessThan(MAX_ALLOCATED);
            return outcome;
        }, name);
    }
}
