package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rootfs cache key of a directory source with special files, as a debootstrap tree has them
 * ({@code /dev/console}, {@code /dev/null}, FIFOs): their user extended attributes are not read (the kernel keeps
 * none on them; opening a FIFO to list them would block, a device node's list threw
 * UnsupportedOperationException), while a regular file's still count.
 */
class StepCacheTreeKeyTest {

    @Test
    void specialFilesAreKeyedWithoutReadingTheirAttributes(@TempDir Path dir) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree/dev"));
        Files.writeString(dir.resolve("tree/file"), "content", StandardCharsets.US_ASCII);
        Process mkfifo = new ProcessBuilder("mkfifo", tree.resolve("initctl").toString()).inheritIO().start();
        assertThat(mkfifo.waitFor()).isZero();

        String before = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> new StepCache.Key().addTree("rootfs", dir.resolve("tree"), Set.of()).hex());
        assertThat(new StepCache.Key().addTree("rootfs", dir.resolve("tree"), Set.of()).hex()).isEqualTo(before);

        UserDefinedFileAttributeView x = Files.getFileAttributeView(dir.resolve("tree/file"), UserDefinedFileAttributeView.class);
        x.write("test", ByteBuffer.wrap("v".getBytes(StandardCharsets.US_ASCII)));
        assertThat(new StepCache.Key().addTree("rootfs", dir.resolve("tree"), Set.of()).hex())
                .as("a regular file's user xattr is part of the key").isNotEqualTo(before);
    }
}
