package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.uki.PeSigning;
import dev.cairn.io.AtomicOutput;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.TinyPe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel signed for {@code uki build --sign-kernel} is a temporary file beside the output; a
 * JVM that exits while it exists (Ctrl-C runs the same shutdown hooks as System.exit) must not
 * leave it behind.
 */
class SignedKernelCleanupTest {
    @TempDir
    Path dir;

    @Test
    void theSignedKernelCopyIsDeletedWhenTheJvmExitsMidBuild() throws Exception {
        Path kernel = Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(5000));
        Path output = dir.resolve("uki.efi");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), kernel.toString(), output.toString())
                .redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(printed).isEqualTo(42);
        assertThat(printed).as("the child saw its signed copy beside the output").startsWith("exists " + dir);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(f -> f.getFileName().toString()).toList()).containsExactly("vmlinuz");
        }
    }

    /** Signs a copy of the kernel, then exits without closing it, as an interrupted build would. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            TestPki.KeyAndCert k = TestPki.get().secureBoot();
            KeyMaterial km = new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test");
            AtomicOutput signed = PeSigning.signedCopy(Path.of(args[0]), Path.of(args[1]), km, "SHA-256");
            System.out.println((Files.size(signed.tempPath()) > 0 ? "exists " : "empty ") + signed.tempPath());
            System.out.flush();
            System.exit(42);
        }
    }
}
