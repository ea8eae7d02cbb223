package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.testing.ExampleSpec;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.initrd.InitrdAttributes;
import dev.cairn.uki.initrd.InitrdCompression;
import dev.cairn.uki.initrd.InitrdOptions;
import dev.cairn.uki.initrd.InitrdWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kernel.initramfs} with both {@code file} and {@code dir}: the ready file first, zeros to a
 * multiple of 4, then cairn's archive with the directory and the signed root hash and policy.
 * What the kernel unpacks is checked with {@link KernelInitramfsReader} (init/initramfs.c's rules
 * for concatenated archives); the build's own check step runs {@code cairn verify}'s links.
 */
class InitramfsFileAndDirTest {
    @TempDir
    Path dir;
    Path spec;
    String base;

    @BeforeEach
    void example() throws IOException {
        spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        base = Files.readString(spec);
        Files.createDirectories(dir.resolve("extra/etc/systemd"));
        Files.writeString(dir.resolve("extra/etc/systemd/cairn.conf"), "from cairn\n");
    }

    /** A newc archive of {@code files} (path, content pairs), compressed as asked. */
    private static byte[] cpio(InitrdCompression c, String... files) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InitrdWriter w = new InitrdWriter(out, InitrdOptions.defaults(c).withMtime(1_700_000_000L))) {
            for (int i = 0; i < files.length; i += 2) {
                String p = files[i];
                for (int s = p.indexOf('/'); s > 0; s = p.indexOf('/', s + 1)) {
                    if (!w.contains(p.substring(0, s))) {
                        w.addDirectory(p.substring(0, s), InitrdAttributes.root(0755));
                    }
                }
                w.addFile(p, InitrdAttributes.root(p.equals("init") ? 0755 : 0644), files[i + 1].getBytes(StandardCharsets.UTF_8));
            }
            w.finish();
        }
        return out.toByteArray();
    }

    /**
     * A ready initramfs as Debian's tools make them: an uncompressed early archive (microcode),
     * then the gzip-compressed main archive; its length is not a multiple of 4.
     */
    private Path ready() throws IOException {
        byte[] early = cpio(InitrdCompression.NONE, "kernel/x86/microcode/GenuineIntel.bin", "ucode");
        for (int pad = 0; ; pad++) {
            byte[] main = cpio(InitrdCompression.GZIP, "init", "#!/bin/sh\nexec /sbin/init\n", "etc/systemd/cairn.conf", "from the file\n",
                    "etc/ready", "x".repeat(pad));
            if ((early.length + main.length) % 4 != 0) {
                Path p = dir.resolve("initrd.img");
                Files.write(p, early);
                Files.write(p, main, java.nio.file.StandardOpenOption.APPEND);
                return p;
            }
        }
    }

    private Path spec(String initramfs) throws IOException {
        Files.writeString(spec, base.replace("  initramfs:\n    dir: initramfs\n", "  initramfs:\n" + initramfs));
        return spec;
    }

    @Test
    void theReadyFileComesFirstAndCairnsArchiveIsUnpackedOverIt() throws Exception {
        Path file = ready();
        long size = Files.size(file);
        assertThat(size % 4).isNotZero();
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("    file: initrd.img\n    dir: extra\n")),
                dir.resolve("out")).build());
        byte[] artifact = Files.readAllBytes(r.out().resolve("initramfs.cpio.zst"));
        byte[] readyBytes = Files.readAllBytes(file);
        assertThat(java.util.Arrays.copyOf(artifact, readyBytes.length)).isEqualTo(readyBytes);
        int offset = (int) ((size + 3) & ~3L);
        for (int k = (int) size; k < offset; k++) {
            assertThat(artifact[k]).as("padding byte %d", k).isZero();
        }
        assertThat(artifact[offset] & 0xff).as("cairn's archive: zstd").isEqualTo(0x28);

        KernelInitramfsReader k = KernelInitramfsReader.unpack(artifact);
        assertThat(k.entries.get("init")).isEqualTo("#!/bin/sh\nexec /sbin/init\n");
        assertThat(k.entries.get("kernel/x86/microcode/GenuineIntel.bin")).isEqualTo("ucode");
        assertThat(k.entries.get("etc/systemd/cairn.conf")).as("the later archive wins").isEqualTo("from cairn\n");
        String rootHash = r.manifest().rootHash();
        assertThat(k.entries.get("etc/cairn/roothash")).isEqualTo(rootHash + "\n");
        assertThat(k.entries.get("etc/cairn/roothash.p7s").getBytes(StandardCharsets.ISO_8859_1))
                .isEqualTo(Files.readAllBytes(r.out().resolve("rootfs.roothash.p7s")));
        assertThat(k.entries.get("etc/ipe/policy.p7s").getBytes(StandardCharsets.ISO_8859_1))
                .isEqualTo(Files.readAllBytes(r.out().resolve("ipe-policy.p7s")));

        // the UKI carries exactly the artifact
        byte[] section = UkiFile.open(r.uki()).section(".initrd").orElseThrow().toBytes(1 << 30);
        assertThat(java.util.Arrays.copyOf(section, artifact.length)).isEqualTo(artifact);

        JsonNode ir = r.manifest().json().path("initramfs");
        assertThat(ir.path("source").asText()).isEqualTo("file+dir");
        assertThat(ir.path("file").path("size").asLong()).isEqualTo(size);
        assertThat(ir.path("file").path("sha256").asText())
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(readyBytes)));
        assertThat(ir.path("carries").asText()).isEqualTo("etc/cairn/roothash,etc/cairn/roothash.p7s,etc/ipe/policy.p7s");
        assertThat(ir.path("entries").asLong()).as("etc, etc/systemd, cairn.conf, etc/cairn + 2, etc/ipe + 1").isEqualTo(8);

        // a hit rebuilds the same result; a new ready file is a miss
        BuildResult again = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), dir.resolve("out")).build());
        assertThat(again.cachedSteps()).contains("initramfs");
        assertThat(again.manifest().json()).isEqualTo(r.manifest().json());
        Files.write(file, new byte[] {0, 0, 0, 0}, java.nio.file.StandardOpenOption.APPEND);
        BuildResult changed = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), dir.resolve("out")).build());
        assertThat(changed.cachedSteps()).doesNotContain("initramfs");
        assertThat(changed.manifest().json().path("initramfs").path("file").path("size").asLong()).isEqualTo(size + 4);
    }

    @Test
    void verifyRefusesAnArtifactThatDoesNotStartWithTheRecordedFile() throws Exception {
        ready();
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("    file: initrd.img\n    dir: extra\n")),
                dir.resolve("out")).build());
        Path keys = dir.resolve("keys");
        java.security.cert.X509Certificate ca = dev.cairn.signing.KeyLoader.loadCertificates(keys.resolve("ca.crt")).get(0);
        java.security.cert.X509Certificate db = dev.cairn.signing.KeyLoader.loadCertificates(keys.resolve("db.crt")).get(0);
        assertThat(ImageSetVerifier.verify(r.out(), ca, db, java.time.Instant.now()).ok()).isTrue();
        // the manifest, re-signed by its own key, names another ready file: the link breaks
        com.fasterxml.jackson.databind.node.ObjectNode m = (com.fasterxml.jackson.databind.node.ObjectNode) r.manifest().json();
        ((com.fasterxml.jackson.databind.node.ObjectNode) m.path("initramfs").path("file")).put("sha256", "00".repeat(32));
        byte[] bytes = ManifestJson.encode(m);
        Files.write(r.out().resolve(BuildManifest.FILE), bytes);
        Files.write(r.out().resolve(BuildManifest.SIGNATURE_FILE), dev.cairn.signing.CmsSigner.sign(bytes,
                dev.cairn.signing.KeyLoader.fromFiles(keys.resolve("signer.key"), keys.resolve("signer.crt"), null),
                new dev.cairn.signing.CmsOptions(true, true, false, "SHA-256")));
        ImageSetVerifier.Report v = ImageSetVerifier.verify(r.out(), ca, db, java.time.Instant.now());
        assertThat(v.ok()).isFalse();
        assertThat(v.firstFailure()).contains("UKI initramfs").contains("does not start with the ready file");
    }

    @Test
    void withoutIpeAndWithAnAlignedFileNothingIsPadded() throws Exception {
        byte[] early = cpio(InitrdCompression.NONE, "init", "#!/bin/sh\n");
        assertThat(early.length % 4).isZero();
        Files.write(dir.resolve("plain.cpio"), early);
        Files.writeString(spec, base.replace("  initramfs:\n    dir: initramfs\n", "  initramfs:\n    file: plain.cpio\n    dir: extra\n")
                .replace("keys:\n", "ipe:\n  enabled: false\nkeys:\n"));
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), dir.resolve("out")).build());
        byte[] artifact = Files.readAllBytes(r.out().resolve("initramfs.cpio.zst"));
        assertThat(artifact[early.length] & 0xff).isEqualTo(0x28);
        KernelInitramfsReader k = KernelInitramfsReader.unpack(artifact);
        assertThat(k.entries).containsKeys("init", "etc/cairn/roothash.p7s").doesNotContainKey("etc/ipe/policy.p7s");
        assertThat(r.manifest().json().path("initramfs").path("carries").asText()).isEqualTo("etc/cairn/roothash,etc/cairn/roothash.p7s");
    }

    @Test
    void theReaderHoldsTheKernelsAlignmentRules() throws Exception {
        byte[] plain = cpio(InitrdCompression.NONE, "init", "#!/bin/sh\n");
        byte[] zst = cpio(InitrdCompression.ZSTD, "etc/x", "y");
        ByteArrayOutputStream ok = new ByteArrayOutputStream();
        ok.write(plain);
        ok.write(zst);
        assertThat(KernelInitramfsReader.unpack(ok.toByteArray()).entries).containsKeys("init", "etc/x");
        ByteArrayOutputStream unaligned = new ByteArrayOutputStream();
        unaligned.write(plain);
        unaligned.write(new byte[2]);
        unaligned.write(zst);
        assertThatThrownBy(() -> KernelInitramfsReader.unpack(unaligned.toByteArray())).hasMessageContaining("broken padding");
        ByteArrayOutputStream shifted = new ByteArrayOutputStream();
        shifted.write(zst);
        shifted.write(new byte[] {0, 0});
        shifted.write(1);
        shifted.write(plain);
        assertThatThrownBy(() -> KernelInitramfsReader.unpack(shifted.toByteArray())).hasMessageContaining("invalid magic");
    }

    @Test
    void theSpecTakesBothAndChecksEach() throws Exception {
        Path file = ready();
        BuildSpec s = BuildSpec.load(spec("    file: initrd.img\n    dir: extra\n"));
        assertThat(s.kernel().initramfs().source()).isEqualTo("file+dir");
        assertThat(s.kernel().initramfs().file()).isEqualTo(file);
        assertThatThrownBy(() -> BuildSpec.load(spec("    file: initrd.img\n    binaries: [/bin/sh]\n")))
                .isInstanceOf(SpecException.class).hasMessageContaining("give both to append them to the file");
        assertThatThrownBy(() -> BuildSpec.load(spec("    dir: extra\n")))
                .isInstanceOf(SpecException.class).hasMessageContaining("has no 'init' file");
        assertThatThrownBy(() -> BuildSpec.load(spec("    modulesDir: extra\n")))
                .isInstanceOf(SpecException.class).hasMessageContaining("give 'dir'");
    }
}
