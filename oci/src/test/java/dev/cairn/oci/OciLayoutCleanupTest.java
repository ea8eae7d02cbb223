package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob being written lives in a temporary file inside the layout; a JVM that exits meanwhile
 * (Ctrl-C runs the same shutdown hooks as System.exit) must not leave it in {@code blobs/sha256}.
 */
class OciLayoutCleanupTest {
    @TempDir
    Path dir;

    @Test
    void aBlobTempFileIsDeletedWhenTheJvmExitsMidWrite() throws Exception {
        Path layout = dir.resolve("lay");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), layout.toString())
                .redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(printed).isEqualTo(42);
        assertThat(printed).as("the child saw its temp files").isEqualTo("temps 2");
        try (Stream<Path> s = Files.list(layout.resolve("blobs/sha256"))) {
            assertThat(s.map(f -> f.getFileName().toString()).toList()).isEmpty();
        }
    }

    /** Starts a blob and a layer temp file, then exits while the blob is half written. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            OciLayout l = OciLayout.openOrCreate(Path.of(args[0]));
            l.tempFile();
            InputStream endless = new InputStream() {
                long n;

                @Override
                public int read() {
                    return 0;
                }

                @Override
                public int read(byte[] b, int off, int len) throws java.io.IOException {
                    if (n > 0) {
                        try (Stream<Path> s = Files.list(Path.of(args[0], "blobs", "sha256"))) {
                            System.out.println("temps " + s.filter(f -> f.getFileName().toString().endsWith(".tmp")).count());
                        }
                        System.out.flush();
                        System.exit(42);
                    }
                    n += len;
                    return len;
                }
            };
            l.putBlob(endless, "application/octet-stream", null, -1);
        }
    }
}
