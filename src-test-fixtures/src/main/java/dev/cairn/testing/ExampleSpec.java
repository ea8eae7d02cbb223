package dev.cairn.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The bundled example ({@code examples/image.yaml}) made independent of the host: its root
 * filesystem and initramfs trees, pseudo definitions and command line, with a kernel and stub
 * generated from seeds ({@link TinyPe}) and keys derived from fixed seeds ({@link SeededKeys}),
 * so no host kernel, stub, busybox or module reaches the set and every build of it has the same
 * bytes everywhere. Key files: {@code keys/db.*} (Secure Boot), {@code keys/ca.*} and
 * {@code keys/signer.*} (manifest and cosign).
 */
public final class ExampleSpec {
    private ExampleSpec() {
    }

    /** The repository's {@code examples} directory, seen from a module's base directory. */
    public static Path examplesDir() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../examples").normalize();
    }

    public static final String SBAT = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
            + "systemd-stub,1,The systemd Developers,systemd,252,https://systemd.io/\n";

    /**
     * Writes the example spec, its trees, kernel, stub and keys into {@code dir}; returns the spec.
     * {@code examples} is the repository's {@code examples} directory.
     */
    public static Path write(Path examples, Path dir) throws IOException {
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
                "    cairn.verity.root-partuuid=${disk.root.partuuid}",
                "    cairn.verity.hash-partuuid=${disk.verity.partuuid}",
                "  initramfs:",
                "    dir: initramfs",
                "keys:",
                "  secureboot: {key: keys/db.key, cert: keys/db.crt}",
                "  manifest: {key: keys/signer.key, cert: keys/signer.crt}",
                "outputs:",
                "  tag: \"1.0.0\"",
                "  reference: registry.example/cairn/example",
                "  disk: {}",
                ""));
        return spec;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted().toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()), java.nio.file.LinkOption.NOFOLLOW_LINKS,
                        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

}
