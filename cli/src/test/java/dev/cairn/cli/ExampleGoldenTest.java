package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.Golden;
import dev.cairn.testing.SeededKeys;
import dev.cairn.testing.TinyPe;
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
 * keys derived from fixed seeds ({@link SeededKeys}) and a kernel and stub generated from seeds
 * ({@link TinyPe}), so nothing of the host (its kernel, stub, busybox or modules) reaches the set.
 * The manifest and the SHA-256 of every file in OUT must equal the golden files: any change of
 * cairn's output for the example shows here. Regenerate (only for an intended change of output)
 * with {@code ./mvnw -pl cli test -Dtest=ExampleGoldenTest -Dgolden.update=true}.
 */
class ExampleGoldenTest {
    static final String SBAT = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
            + "systemd-stub,1,The systemd Developers,systemd,252,https://systemd.io/\n";

    @TempDir
    Path dir;

    /** The example spec with host-independent kernel, stub and keys (written into {@code dir}). */
    static Path exampleSpec(Path dir) throws IOException {
        Path examples = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../examples").normalize();
        Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(200_000));
        Files.write(dir.resolve("stub.efi"), TinyPe.stub(SBAT, "252.39-1~deb12u2"));
        Path keys = dir.resolve("keys");
        SeededKeys.selfSigned("cairn example golden db", "cairn golden Secure Boot db", 2048, 1, false).writeTo(keys, "db");
        SeededKeys.Issued ca = SeededKeys.selfSigned("cairn example golden ca", "cairn golden CA", 2048, 2, true);
        ca.writeTo(keys, "ca");
        SeededKeys.leaf(ca, "cairn example golden signer", "cairn golden release signer", 2048, 3).writeTo(keys, "signer");
        // copies, named relative to the spec: the spec's bytes (and digest, in the manifest) do not depend on the checkout's place
        copyTree(examples.resolve("rootfs"), dir.resolve("rootfs"));
        copyTree(examples.resolve("initramfs"), dir.resolve("initramfs"));
        Path spec = dir.resolve("image.yaml");
        Files.writeString(spec, String.join("\n",
                "apiVersion: cairn.dev/v1",
                "image:",
                "  name: cairn-example",
                "  version: 1.0.0",
                "sourceDateEpoch: 1700000000",
                "rootfs:",
                "  dir: rootfs",
                "  compression: zstd",
                "  pseudo:",
                "    - \"/ m 755 0 0\"",
                "    - \"etc m 755 0 0\"",
                "    - \"etc/hostname m 644 0 0\"",
                "    - \"etc/os-release m 644 0 0\"",
                "    - \"etc/cairn-marker m 644 0 0\"",
                "    - \"usr m 755 0 0\"",
                "    - \"usr/bin m 755 0 0\"",
                "    - \"usr/bin/hello m 755 0 0\"",
                "    - \"dev d 755 0 0\"",
                "    - \"dev/console c 600 0 0 5 1\"",
                "kernel:",
                "  linux: vmlinuz",
                "  stub: stub.efi",
                "  cmdline: >-",
                "    console=ttyS0 panic=-1",
                "    cairn.verity.data=/dev/vda",
                "    cairn.verity.roothash=${verity.roothash}",
                "    cairn.verity.hashoffset=${verity.hashoffset}",
                "  initramfs:",
                "    dir: initramfs",
                "keys:",
                "  secureboot: {key: keys/db.key, cert: keys/db.crt}",
                "  manifest: {key: keys/signer.key, cert: keys/signer.crt}",
                "outputs:",
                "  tag: \"1.0.0\"",
                "  reference: registry.example/cairn/example",
                ""));
        return spec;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted().toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()), java.nio.file.LinkOption.NOFOLLOW_LINKS,
                        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

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
        Path spec = exampleSpec(dir);
        Path out = dir.resolve("out");
        MainTest.Run r = run("build", spec.toString(), "--out", out.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isZero();
        Golden.assertMatchesGolden(getClass(), "example-set/manifest.json", Files.readAllBytes(out.resolve("manifest.json")));
        Golden.assertMatchesGolden(getClass(), "example-set/digests.txt", digests(out).getBytes(StandardCharsets.UTF_8));
    }
}
