package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.pipeline.disk.DiskInspector;
import dev.cairn.pipeline.sysext.OsRelease;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.testing.ExampleSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spec {@code extensions:}: each entry built beside the image as {@code OUT/extensions/NAME.raw},
 * release fields defaulted from the root filesystem's os-release, signed like the root's root hash,
 * listed in the manifest, trusted by the IPE policy (root first, then by name), placed on the ESP in
 * systemd-stub's add-on directory, checked by the set verifier, byte-identical across builds, and
 * signed through the split-signing rounds like the root's root hash.
 */
class BuildExtensionsTest {
    @TempDir
    static Path dir;
    static Path spec;
    static Path keys;

    static final String EXTENSIONS = String.join("\n",
            "extensions:",
            "  - name: zeta",
            "    dir: ext-zeta",
            "    format: squashfs",
            "  - name: alpha",
            "    tar: alpha.tar",
            "    sysextLevel: \"2\"",
            "    compression: zstd",
            "");

    @BeforeAll
    static void example() throws Exception {
        Path d = Files.createDirectories(dir.resolve("example"));
        spec = ExampleSpec.write(ExampleSpec.examplesDir(), d);
        keys = d.resolve("keys");
        Path zeta = Files.createDirectories(d.resolve("ext-zeta/usr/bin"));
        Files.writeString(zeta.resolve("zeta"), "#!/bin/sh\necho zeta\n");
        Path alphaTree = Files.createDirectories(d.resolve("alpha-tree/usr/lib/alpha"));
        Files.writeString(alphaTree.resolve("data"), "alpha data\n");
        Process p = new ProcessBuilder("tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-cf", d.resolve("alpha.tar").toString(),
                "-C", d.resolve("alpha-tree").toString(), "usr").inheritIO().start();
        assertThat(p.waitFor()).isZero();
        Files.writeString(spec, Files.readString(spec) + EXTENSIONS);
    }

    static X509Certificate cert(String name) throws Exception {
        return KeyLoader.loadCertificates(keys.resolve(name + ".crt")).get(0);
    }

    static ImageSetVerifier.Report verify(Path out) throws Exception {
        return ImageSetVerifier.verify(out, cert("ca"), cert("db"), Instant.now());
    }

    @Test
    void extensionsAreBuiltListedTrustedPlacedAndVerified() throws Exception {
        BuildSpec s = BuildSpec.load(spec);
        assertThat(s.extensions()).extracting(BuildSpec.Extension::name).containsExactly("zeta", "alpha");
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(s, dir.resolve("one")).build());
        Path out = r.out();
        assertThat(r.steps()).extracting(StepReport::step).containsExactly("rootfs", "roothash", "extension-zeta", "extension-alpha",
                "ipe", "initramfs", "uki", "oci", "disk", "manifest", "check");
        assertThat(out.resolve("extensions/alpha.raw")).isRegularFile();
        assertThat(out.resolve("extensions/zeta.raw")).isRegularFile();
        assertThat(out.resolve("extensions/zeta.roothash.p7s")).isRegularFile();

        JsonNode m = BuildManifest.read(out).json();
        JsonNode xs = m.path("extensions");
        assertThat(xs).hasSize(2);
        // defaults from the root filesystem's /etc/os-release (ID=cairn-example VERSION_ID=1); a level leaves VERSION_ID out
        assertThat(xs.get(0).path("release").asText()).isEqualTo("ID=cairn-example\nVERSION_ID=1\nARCHITECTURE=x86-64\n");
        assertThat(xs.get(1).path("release").asText()).isEqualTo("ID=cairn-example\nSYSEXT_LEVEL=2\nARCHITECTURE=x86-64\n");
        String zetaHash = xs.get(0).path("rootHash").asText();
        String alphaHash = xs.get(1).path("rootHash").asText();
        List<String> artifacts = new ArrayList<>();
        for (JsonNode a : m.path("artifacts")) {
            artifacts.add(a.path("name").asText() + " " + a.path("path").asText() + " " + a.path("rootHash").asText(""));
        }
        assertThat(artifacts).contains("extension:alpha extensions/alpha.raw " + alphaHash, "extension:zeta extensions/zeta.raw " + zetaHash,
                "extension:zeta:verity extensions/zeta.verity ", "extension:zeta:roothash extensions/zeta.roothash ",
                "extension:zeta:roothash.p7s extensions/zeta.roothash.p7s ");

        // IPE: root first, then the extensions by name
        String policy = Files.readString(out.resolve(BuildPipeline.POLICY));
        int root = policy.indexOf("dmverity_roothash=sha256:" + m.path("verity").path("rootHash").asText());
        int a = policy.indexOf("op=EXECUTE dmverity_roothash=sha256:" + alphaHash + " action=ALLOW");
        int z = policy.indexOf("op=EXECUTE dmverity_roothash=sha256:" + zetaHash + " action=ALLOW");
        assertThat(root).isPositive();
        assertThat(a).isGreaterThan(root);
        assertThat(z).isGreaterThan(a);
        assertThat(m.path("ipe").path("trustedRootHashes")).hasSize(3);

        // the ESP: systemd-stub's add-on directory next to the fallback boot loader, the images' bytes
        DiskInspector.Report d = DiskInspector.inspect(out.resolve("disk.raw"), List.of(cert("db")), Instant.now(), 1);
        Map<String, String> esp = new java.util.TreeMap<>();
        d.espFiles().forEach(f -> esp.put(f.path(), f.sha256()));
        assertThat(esp).containsEntry("/EFI/BOOT/BOOTX64.EFI.extra.d/alpha.raw", StepCache.digest(out.resolve("extensions/alpha.raw")))
                .containsEntry("/EFI/BOOT/BOOTX64.EFI.extra.d/zeta.raw", StepCache.digest(out.resolve("extensions/zeta.raw")));

        ImageSetVerifier.Report v = verify(out);
        assertThat(v.ok()).as(v.firstFailure()).isTrue();
        assertThat(v.checks()).extracting(ImageSetVerifier.Check::link).contains("extension alpha", "extension zeta");

        // again: every step from the cache, the same bytes
        BuildResult again = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), out).build());
        assertThat(again.cachedSteps()).contains("extension-zeta", "extension-alpha");
        assertThat(verify(out).ok()).isTrue();

        // a second output directory, no cache: byte-identical set
        BuildResult two = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), dir.resolve("two")).build());
        for (String f : List.of("manifest.json", "extensions/alpha.raw", "extensions/zeta.raw", "extensions/zeta.verity",
                "extensions/zeta.roothash.p7s", "disk.raw", "ipe-policy.txt")) {
            assertThat(Files.readAllBytes(two.out().resolve(f))).as(f).isEqualTo(Files.readAllBytes(out.resolve(f)));
        }

        // a stray image in OUT/extensions: systemd would pick it up; the set no longer verifies
        Files.copy(out.resolve("extensions/alpha.raw"), out.resolve("extensions/stray.raw"));
        ImageSetVerifier.Report stray = verify(out);
        assertThat(stray.ok()).isFalse();
        assertThat(stray.firstFailure()).contains("extensions/stray.raw not listed in the manifest");
        Files.delete(out.resolve("extensions/stray.raw"));

        // a flipped byte in an extension: its artifact link
        byte[] b = Files.readAllBytes(out.resolve("extensions/zeta.raw"));
        b[100] ^= 1;
        Files.write(out.resolve("extensions/zeta.raw"), b);
        ImageSetVerifier.Report flipped = verify(out);
        assertThat(flipped.ok()).isFalse();
        assertThat(flipped.firstFailure()).contains("artifact extension:zeta");
    }

    @Test
    void aSetWithoutExtensionsRemovesThePreviousSetsDirectory() throws Exception {
        Path out = dir.resolve("removal");
        ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), out).build());
        assertThat(out.resolve("extensions")).isDirectory();
        String plain = Files.readString(spec).replace(EXTENSIONS, "");
        ImageSetBuilder.build(BuildRequest.builder(BuildSpec.parse(spec, plain), out).build());
        assertThat(out.resolve("extensions")).doesNotExist();
        assertThat(verify(out).ok()).isTrue();
    }

    @Test
    void splitSigningAsksForTheExtensionsRootHashSignaturesInRoundOne() throws Exception {
        Path out = dir.resolve("split");
        ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), out).unsigned(true).build());
        Map<String, KeyMaterial> byRole = Map.of(
                "secureboot", KeyLoader.fromFiles(keys.resolve("db.key"), keys.resolve("db.crt"), null),
                "manifest", KeyLoader.fromFiles(keys.resolve("signer.key"), keys.resolve("signer.crt"), null));
        Path req = out.resolve(SigningRequest.FILE);
        List<String> seen = new ArrayList<>();
        for (int round = 1; round <= 4 && Files.exists(req); round++) {
            byte[] bytes = Files.readAllBytes(req);
            SigningRequest q = SigningRequest.decode(bytes, req);
            BuildRequest.Builder next = BuildRequest.builder(BuildSpec.load(spec), out);
            for (String role : q.roles()) {
                q.forRole(role).forEach(e -> seen.add(q.round() + " " + e.id()));
                Path answer = dir.resolve("split-r" + round + "-" + role + ".json");
                Files.write(answer, SigningStation.sign(q, SigningRequest.sha256(bytes), role, byRole.get(role)).encode());
                next.inject(answer);
            }
            ImageSetBuilder.build(next.build());
        }
        assertThat(req).doesNotExist();
        assertThat(seen).contains("1 roothash", "1 roothash:extension:alpha", "1 roothash:extension:zeta");
        ImageSetVerifier.Report v = verify(out);
        assertThat(v.ok()).as(v.firstFailure()).isTrue();
        // the same bytes as the one-shot build
        Path oneShot = dir.resolve("split-oneshot");
        ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), oneShot).build());
        for (String f : List.of("extensions/alpha.raw", "extensions/zeta.roothash.p7s", "disk.raw", "manifest.json")) {
            assertThat(Files.readAllBytes(out.resolve(f))).as(f).isEqualTo(Files.readAllBytes(oneShot.resolve(f)));
        }
    }

    @Test
    void specEntriesAreCheckedWhenTheSpecIsRead() throws Exception {
        String base = Files.readString(spec).replace(EXTENSIONS, "");
        assertThatThrownBy(() -> BuildSpec.parse(spec, base + "extensions:\n  - name: a\n    dir: ext-zeta\n  - name: a\n    dir: ext-zeta\n"))
                .hasMessageContaining("a second extension named 'a'");
        assertThatThrownBy(() -> BuildSpec.parse(spec, base + "extensions:\n  - name: a\n    dir: ext-zeta\n    tar: alpha.tar\n"))
                .hasMessageContaining("exactly one of 'dir'");
        assertThatThrownBy(() -> BuildSpec.parse(spec, base + "extensions:\n  - name: a.raw\n    dir: ext-zeta\n"))
                .hasMessageContaining("ends in '.raw'");
        assertThatThrownBy(() -> BuildSpec.parse(spec, base + "extensions:\n  - name: a\n    dir: ext-zeta\n    format: qcow2\n"))
                .hasMessageContaining("ddi (default) or squashfs");
        assertThatThrownBy(() -> BuildSpec.parse(spec, base + "extensions:\n  - name: a\n    dir: ext-zeta\n    osId: Debian\n"))
                .isInstanceOf(SpecException.class).hasMessageContaining("ID=Debian");
        assertThatThrownBy(() -> BuildSpec.parse(spec, base + "extensions:\n  - name: a\n    dir: ext-zeta\n    arch: amd64\n"))
                .hasMessageContaining("x86-64, arm64 or _any");
        assertThatThrownBy(() -> BuildSpec.parse(spec, base + "extensions:\n  - name: a\n    dir: ext-zeta\n    colour: red\n"))
                .hasMessageContaining("colour");
        BuildSpec ok = BuildSpec.parse(spec, base + "extensions:\n  - name: a\n    dir: ext-zeta\n    osId: debian\n    versionId: 12\n"
                + "    arch: _any\n    confext: true\n");
        BuildSpec.Extension x = ok.extensions().get(0);
        assertThat(x.versionId()).isEqualTo("12");
        assertThat(x.confext()).isTrue();
        assertThat(x.format()).isEqualTo(dev.cairn.pipeline.sysext.SysextRequest.Format.DDI);
        assertThat(x.compression()).isEqualTo(dev.cairn.squashfs.Compression.GZIP);
        assertThat(x.path()).isEqualTo("extensions/a.raw");
    }

    @Test
    void theEspGrowsToHoldTheExtensionsAndATooSmallOneIsAClearError() throws Exception {
        Path big = Files.createDirectories(spec.getParent().resolve("ext-big/usr/lib/big"));
        byte[] noise = new byte[64 << 20];
        new java.util.Random(20261206L).nextBytes(noise); // incompressible: the image is as large as the data
        Files.write(big.resolve("blob"), noise);
        String base = Files.readString(spec).replace(EXTENSIONS, "");
        String ext = "extensions:\n  - name: big\n    dir: ext-big\n";
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.parse(spec, base + ext), dir.resolve("big")).build());
        JsonNode m = BuildManifest.read(r.out()).json();
        long espSize = 0;
        for (JsonNode p : m.path("disk").path("partitions")) {
            if (p.path("designator").asText().equals("esp")) {
                espSize = p.path("size").asLong();
            }
        }
        long image = Files.size(r.out().resolve("extensions/big.raw"));
        assertThat(image).isGreaterThan(64L << 20);
        assertThat(espSize).isGreaterThan(image).isGreaterThan(DiskImageStep.MIN_ESP);
        assertThat(verify(r.out()).ok()).isTrue();

        String small = (base + ext).replace("  disk: {}", "  disk: {espSize: 34603008}");
        assertThatThrownBy(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.parse(spec, small), dir.resolve("small")).build()))
                .isInstanceOf(PipelineException.class).hasMessageContaining("outputs.disk: the ESP (34603008 bytes) cannot hold the UKI "
                        + "twice and the extensions").hasMessageContaining("raise outputs.disk.espSize");
    }

    @Test
    void anExtensionForAnotherArchitectureThanTheDisksIsWarnedAbout() throws Exception {
        String base = Files.readString(spec).replace(EXTENSIONS, "");
        ImageSetBuilderTest.Recorder r = new ImageSetBuilderTest.Recorder();
        ImageSetBuilder.build(BuildRequest.builder(BuildSpec.parse(spec, base + "extensions:\n  - name: arm\n    dir: ext-zeta\n"
                + "    arch: arm64\n  - name: anywhere\n    dir: ext-zeta\n    arch: _any\n"), dir.resolve("arch")).listener(r).build());
        assertThat(r.events).filteredOn(e -> e.startsWith("warning extension")).containsExactly("warning extension arm is for "
                + "ARCHITECTURE=arm64 but the disk boots a x86-64 UKI: systemd-sysext on it refuses the extension (give arch: x86-64 or _any)");
    }

    @Test
    void defaultsNeedAnOsRelease() throws Exception {
        BuildSpec s = BuildSpec.load(spec);
        BuildSpec.Extension x = s.extensions().get(0);
        assertThatThrownBy(() -> ExtensionStep.release(s, x, null)).isInstanceOf(PipelineException.class)
                .hasMessageContaining("takes ID and VERSION_ID from the root filesystem's os-release, but it has neither /etc/os-release nor "
                        + "/usr/lib/os-release: give osId and versionId");
        OsRelease rolling = new OsRelease("usr/lib/os-release", OsRelease.parse("ID=arch\n".getBytes(StandardCharsets.UTF_8)));
        assertThatThrownBy(() -> ExtensionStep.release(s, x, rolling)).hasMessageContaining("which has none (a rolling release?)");
        OsRelease quoted = new OsRelease("etc/os-release", OsRelease.parse("# c\nNAME=\"Debian GNU/Linux\"\nID='debian'\nVERSION_ID=\"12\"\n"
                .getBytes(StandardCharsets.UTF_8)));
        assertThat(ExtensionStep.release(s, x, quoted).content()).isEqualTo("ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\n");
    }
}
