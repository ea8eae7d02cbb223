package dev.cairn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicOutputGroupTest {
    @Test
    void commitsEveryOutputTogether(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a"), "old a");
        try (AtomicOutputGroup g = new AtomicOutputGroup()) {
            g.write(dir.resolve("a"), bytes("new a"));
            g.writePrivate(dir.resolve("b.key"), bytes("secret"));
            assertThat(dir.resolve("a")).hasContent("old a");
            assertThat(dir.resolve("b.key")).doesNotExist();
            g.commit();
        }
        assertThat(dir.resolve("a")).hasContent("new a");
        assertThat(dir.resolve("b.key")).hasContent("secret");
        assertThat(names(dir)).containsExactlyInAnyOrder("a", "b.key");
    }

    @Test
    void directoriesMadeForUncommittedOutputsAreRemovedAgain(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("mine"));
        Files.writeString(dir.resolve("mine/keep"), "user file");
        try (AtomicOutputGroup g = new AtomicOutputGroup()) {
            g.write(dir.resolve("new/deeper/a"), bytes("a"));
            g.write(dir.resolve("new/deeper/b"), bytes("b")); // its directory already existed by then
            g.write(dir.resolve("new/c"), bytes("c"));
            g.write(dir.resolve("mine/d"), bytes("d"));
        }
        assertThat(names(dir)).containsExactly("mine");
        assertThat(names(dir.resolve("mine"))).containsExactly("keep");
        try (AtomicOutput o = AtomicOutput.open(dir.resolve("x/y/z"))) {
            o.channel().write(java.nio.ByteBuffer.wrap(bytes("z")));
            o.commit(); // committed: its directories stay
        }
        assertThat(dir.resolve("x/y/z")).hasContent("z");
    }

    @Test
    void aFailureBeforeCommitLeavesNoOutputAndNoTemporaryFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a"), "old a");
        assertThatThrownBy(() -> {
            try (AtomicOutputGroup g = new AtomicOutputGroup()) {
                g.write(dir.resolve("a"), bytes("new a"));
                g.write(dir.resolve("b"), bytes("new b"));
                Files.writeString(dir.resolve("a-file"), "x");
                g.write(dir.resolve("a-file").resolve("c"), bytes("c")); // parent is a file: fails
                g.commit();
            }
        }).isInstanceOf(IOException.class);
        Files.delete(dir.resolve("a-file"));
        assertThat(dir.resolve("a")).hasContent("old a");
        assertThat(names(dir)).containsExactly("a");
    }

    @Test
    void aTargetThatIsADirectoryFailsTheCommitBeforeAnyRename(@TempDir Path dir) throws Exception {
        Files.createDirectory(dir.resolve("z"));
        Files.writeString(dir.resolve("a"), "old a");
        assertThatThrownBy(() -> {
            try (AtomicOutputGroup g = new AtomicOutputGroup()) {
                g.write(dir.resolve("a"), bytes("new a"));
                g.write(dir.resolve("z"), bytes("new z"));
                g.commit();
            }
        }).isInstanceOf(IOException.class).hasMessageContaining("is a directory");
        assertThat(dir.resolve("a")).hasContent("old a");
        assertThat(dir.resolve("z")).isDirectory();
        assertThat(names(dir)).containsExactlyInAnyOrder("a", "z");
    }

    /**
     * Ctrl-C during openCopying's copy must remove the partial copy: the temporary file has to be
     * registered for shutdown cleanup before the copy starts, not after it finishes.
     */
    @Test
    void openCopyingRegistersItsTemporaryFileBeforeCopying(@TempDir Path dir) throws Exception {
        Path source = dir.resolve("big.img");
        long size = 64L << 20;
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(size); // sparse: cheap to create, takes a moment to copy
        }
        Files.createDirectory(dir.resolve("out"));
        Path target = dir.resolve("out").resolve("big.img");
        CompletableFuture<AtomicOutput> copying = CompletableFuture.supplyAsync(() -> {
            try {
                return AtomicOutput.openCopying(target, source);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        boolean observedPartial = false;
        while (!copying.isDone()) {
            for (Path temp : list(dir.resolve("out"))) {
                long n = sizeOrMinusOne(temp);
                if (n > 0 && n < size && !copying.isDone()) {
                    observedPartial = true;
                    assertThat(AtomicOutput.pendingCleanup(temp)).as("%s registered while %d of %d bytes copied", temp, n, size)
                            .isTrue();
                }
            }
        }
        try (AtomicOutput o = copying.join()) {
            assertThat(AtomicOutput.pendingCleanup(o.tempPath())).isTrue();
        }
        assertThat(list(dir.resolve("out"))).isEmpty();
        Assumptions.assumeTrue(observedPartial, "the copy finished before a partial copy could be observed");
    }

    private static long sizeOrMinusOne(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static List<String> names(Path dir) throws IOException {
        return list(dir).stream().map(p -> p.getFileName().toString()).toList();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
