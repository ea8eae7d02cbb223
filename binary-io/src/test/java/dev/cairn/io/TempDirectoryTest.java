package dev.cairn.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scratch directories that a JVM shutdown (Ctrl-C) removes: {@link AtomicOutput#createTempDirectory}. */
class TempDirectoryTest {
    @Test
    void registeredUntilSettled(@TempDir Path dir) throws IOException {
        Path t = AtomicOutput.createTempDirectory(dir, ".new-");
        assertThat(t).isDirectory().hasParent(dir.toAbsolutePath());
        assertThat(t.getFileName().toString()).startsWith(".new-");
        assertThat(AtomicOutput.pendingCleanup(t)).isTrue();
        AtomicOutput.settled(t);
        assertThat(AtomicOutput.pendingCleanup(t)).isFalse();
        assertThat(t).as("settling deletes nothing").isDirectory();
    }

    @Test
    void withoutADirectoryInTheSystemTempDirectory() throws IOException {
        Path t = AtomicOutput.createTempDirectory(null, "cairn-test-");
        try {
            assertThat(t.getParent()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath());
            assertThat(AtomicOutput.pendingCleanup(t)).isTrue();
        } finally {
            FileTrees.delete(t);
            AtomicOutput.settled(t);
        }
    }

    @Test
    void shutdownRemovesATreeThatIsStillBeingWritten(@TempDir Path dir) throws Exception {
        Path t = AtomicOutput.createTempDirectory(dir, ".new-");
        Files.createDirectories(t.resolve("sub/deeper"));
        Files.write(t.resolve("sub/deeper/file"), new byte[1000]);
        t.resolve("sub/deeper").toFile().setWritable(false); // a read-only directory inside is removed too
        CountDownLatch writing = new CountDownLatch(20);
        AtomicInteger written = new AtomicInteger();
        AtomicReference<IOException> stopped = new AtomicReference<>();
        Thread writer = new Thread(() -> { // as the main thread that keeps copying while the shutdown hook runs
            try {
                for (int i = 0; ; i++) {
                    Files.write(t.resolve("f" + i), new byte[4096]);
                    written.incrementAndGet();
                    writing.countDown();
                }
            } catch (IOException e) {
                stopped.set(e);
            }
        });
        writer.start();
        writing.await();
        AtomicOutput.removeDirectories(Set.of(t));
        writer.join(10_000);
        assertThat(writer.isAlive()).isFalse();
        assertThat(t).doesNotExist();
        assertThat(stopped.get()).as("the writer lost its directory").isNotNull();
        assertThat(written.get()).isGreaterThanOrEqualTo(20);
        assertThat(dir).isEmptyDirectory();
        AtomicOutput.settled(t);
    }
}
