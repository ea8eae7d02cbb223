package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ExampleSpec;
import dev.cairn.testing.Golden;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pins the bytes of the bundled example's image set: {@code examples/rootfs} and
 * {@code examples/initramfs} with the example's pseudo definitions and command line, built with
 * keys derived from fixed seeds and a kernel and stub generated from seeds ({@link ExampleSpec}),
 * so nothing of the host (its kernel, stub, busybox or modules) reaches the set.
 * The manifest and the SHA-256 of every file in OUT must equal the golden files: any change of
 * cairn's output for the example shows here. Regenerate (only for an intended change of output)
 * with {@code ./mvnw -pl cli test -Dtest=ExampleGoldenTest -Dgolden.update=true}.
 */
class ExampleGoldenTest {
    @TempDir
    Path dir;

    /** "sha256  path" for every file under {@code out} except the step cache, sorted by path. */
    static String digests(Path out) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> s = Files.walk(out)) {
            List<Path> files = s.filter(Files::isRegularFile).filter(p -> !out.relativize(p).startsWith(".cairn-cache"))
                    .filter(p -> !out.relativize(p).toString().equals(".cairn-lock")).sorted().toList();
            for (Path p : files) {
                sb.append(sha256(p)).append("  ").append(out.relativize(p)).append('\n');
            }
        }
        return sb.toString();
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theExampleSetHasThePinnedBytes() throws IOException {
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        Path out = dir.resolve("out");
        MainTest.Run r = run("build", spec.toString(), "--out", out.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isZero();
        Golden.assertMatchesGolden(getClass(), "example-set/manifest.json", Files.readAllBytes(out.resolve("manifest.json")));
        Golden.assertMatchesGolden(getClass(), "example-set/digests.txt", digests(out).getBytes(StandardCharsets.UTF_8));
    }
}
