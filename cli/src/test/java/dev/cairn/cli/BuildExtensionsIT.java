package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.ExampleSpec;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * Spec {@code extensions:} on the bundled example (with {@code outputs.disk}), judged by tools no
 * one here wrote: systemd-dissect 252 recognises {@code OUT/extensions/NAME.raw} as an extension
 * and prints its extension-release (given in the spec, or defaulted from the example's
 * os-release); veritysetup verifies its root
 * partition against its root-verity partition; openssl verifies the signature partition's PKCS#7
 * over the root hash with the Secure Boot db certificate; fsck.fat finds the ESP clean and mtools
 * lists {@code /EFI/BOOT/BOOTX64.EFI.extra.d/*.raw} holding the extensions' exact bytes. Two
 * builds give the same bytes; {@code cairn verify} accepts the set.
 */
class BuildExtensionsIT {
    static final Duration TIMEOUT = Duration.ofMinutes(2);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path example;
    static Path spec;
    static Path keys;
    static Path out;
    static JsonNode manifest;

    @BeforeAll
    static void build() throws IOException {
        example = Files.createDirectories(dir.resolve("example"));
        spec = ExampleSpec.write(ExampleSpec.examplesDir(), example);
        keys = example.resolve("keys");
        Path bin = Files.createDirectories(example.resolve("ext-hello/usr/bin"));
        Files.writeString(bin.resolve("hello-ext"), "#!/bin/sh\necho hello from an extension\n");
        Path lib = Files.createDirectories(example.resolve("ext-other/usr/lib/other"));
        Files.writeString(lib.resolve("data"), "other\n");
        Files.writeString(spec, Files.readString(spec) + String.join("\n",
                "extensions:",
                "  - name: hello",
                "    dir: ext-hello",
                "    osId: debian",
                "    versionId: \"12\"",
                "  - name: other",
                "    dir: ext-other",
                "    format: squashfs",
                ""));
        out = build("out");
        manifest = JSON.readTree(out.resolve("manifest.json").toFile());
    }

    static Path build(String name) {
        Path o = dir.resolve(name);
        MainTest.Run r = run("build", spec.toString(), "--out", o.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isZero();
        return o;
    }

    static JsonNode extension(String name) {
        for (JsonNode x : manifest.path("extensions")) {
            if (x.path("name").asText().equals(name)) {
                return x;
            }
        }
        throw new AssertionFailedError("no extension " + name + " in the manifest");
    }

    static JsonNode partition(JsonNode parts, String designator) {
        for (JsonNode p : parts.path("partitions")) {
            if (p.path("designator").asText().equals(designator)) {
                return p;
            }
        }
        throw new AssertionFailedError("no " + designator + " partition in " + parts);
    }

    @Test
    void systemdDissect252RecognisesTheExtensionAndItsRelease() throws IOException {
        Path img = out.resolve("extensions/hello.raw");
        ToolOracle.Result text = SysextIT.dissect(img.toString()).assertExit(0);
        assertThat(text.stdout()).contains("✓ extension for system").contains("Ext. Rel.: ID=debian").contains("VERSION_ID=12")
                .contains("ARCHITECTURE=x86-64");
        JsonNode d = JSON.readTree(SysextIT.dissect("--json=short", img.toString()).assertExit(0).stdout());
        assertThat(d.path("name").asText()).isEqualTo("hello.raw");
        List<String> designators = new ArrayList<>();
        for (JsonNode m : d.path("mounts")) {
            designators.add(m.path("designator").asText());
            if (m.path("designator").asText().equals("root")) {
                assertThat(m.path("verity").asText()).isEqualTo("signed");
                assertThat(m.path("fstype").asText()).isEqualTo("squashfs");
            }
        }
        assertThat(designators).containsExactly("root", "root-verity", "root-verity-sig");
        String rootHash = extension("hello").path("rootHash").asText();
        SysextIT.dissect("--root-hash=" + rootHash, img.toString()).assertExit(0);

        // the naked SquashFS, its release defaulted from the example's os-release (ID=cairn-example VERSION_ID=1); 252's dissect
        // says "extension for system" from the file's presence alone (sysext merge compares ID and VERSION_ID with the host)
        ToolOracle.Result other = SysextIT.dissect(out.resolve("extensions/other.raw").toString()).assertExit(0);
        assertThat(other.stdout()).contains("Ext. Rel.: ID=cairn-example").contains("VERSION_ID=1").contains("✓ extension for system")
                .containsPattern("squashfs +- +external");
    }

    @Test
    void veritysetupVerifiesTheExtensionsPartitionsAndOpensslItsSignature() throws IOException {
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        JsonNode x = extension("hello");
        String rootHash = x.path("rootHash").asText();
        Path img = out.resolve(x.path("path").asText());
        Path w = Files.createDirectories(dir.resolve("verity"));
        JsonNode root = partition(x, "root-x86-64");
        JsonNode hash = partition(x, "root-x86-64-verity");
        JsonNode sig = partition(x, "root-x86-64-verity-sig");
        Path data = SysextIT.extract(img, root.path("offset").asLong(), root.path("size").asLong(), w.resolve("root.part"));
        Path tree = SysextIT.extract(img, hash.path("offset").asLong(), hash.path("size").asLong(), w.resolve("verity.part"));
        veritysetup.runOk("verify", data.toString(), tree.toString(), rootHash);
        String wrong = (rootHash.charAt(0) == '0' ? "1" : "0") + rootHash.substring(1);
        assertThat(veritysetup.run(TIMEOUT, "verify", data.toString(), tree.toString(), wrong).exitCode()).isNotZero();

        byte[] b = Files.readAllBytes(SysextIT.extract(img, sig.path("offset").asLong(), sig.path("size").asLong(), w.resolve("sig.part")));
        int end = 0;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        JsonNode j = JSON.readTree(new String(b, 0, end, StandardCharsets.US_ASCII));
        assertThat(j.path("rootHash").asText()).isEqualTo(rootHash);
        Path der = Files.write(w.resolve("sig.der"), Base64.getDecoder().decode(j.path("signature").asText()));
        Path content = Files.writeString(w.resolve("roothash.txt"), rootHash);
        // the verity role defaults to the secureboot key: the db certificate, as for the root's root hash
        openssl.runOk("smime", "-verify", "-binary", "-inform", "DER", "-in", der.toString(), "-content", content.toString(),
                "-CAfile", keys.resolve("db.crt").toString(), "-purpose", "any", "-out", w.resolve("ok.txt").toString());
        Path other = Files.writeString(w.resolve("other.txt"), wrong);
        assertThat(openssl.run(TIMEOUT, "smime", "-verify", "-binary", "-inform", "DER", "-in", der.toString(), "-content",
                other.toString(), "-CAfile", keys.resolve("db.crt").toString(), "-purpose", "any", "-out", w.resolve("bad.txt").toString())
                .exitCode()).isNotZero();

        // the naked SquashFS: its sidecar signature over its root hash, and veritysetup with its .verity
        JsonNode y = extension("other");
        String yHash = y.path("rootHash").asText();
        veritysetup.runOk("verify", out.resolve("extensions/other.raw").toString(), out.resolve("extensions/other.verity").toString(), yHash);
        assertThat(out.resolve("extensions/other.roothash")).hasContent(yHash);
        Path yContent = Files.writeString(w.resolve("other-roothash.txt"), yHash);
        openssl.runOk("smime", "-verify", "-binary", "-inform", "DER", "-in", out.resolve("extensions/other.roothash.p7s").toString(),
                "-content", yContent.toString(), "-CAfile", keys.resolve("db.crt").toString(), "-purpose", "any", "-out",
                w.resolve("ok2.txt").toString());
    }

    @Test
    void theEspCarriesTheExtensionsInTheStubsAddOnDirectory() throws IOException {
        ToolOracle fsck = ToolOracle.require("fsck.fat", "dosfstools");
        ToolOracle mdir = ToolOracle.require("mdir", "mtools");
        ToolOracle mcopy = ToolOracle.require("mcopy", "mtools");
        JsonNode disk = manifest.path("disk");
        JsonNode espPart = partition(disk, "esp");
        Path w = Files.createDirectories(dir.resolve("esp"));
        Path esp = SysextIT.extract(out.resolve(disk.path("file").asText()), espPart.path("offset").asLong(), espPart.path("size").asLong(),
                w.resolve("esp.img"));
        ToolOracle.Result f = fsck.runOk("-n", esp.toString());
        assertThat(f.stdout() + f.stderr()).doesNotContain("differ", "Free cluster summary wrong");
        String listing = mdir.runOk("-i", esp.toString(), "-b", "::/EFI/BOOT/BOOTX64.EFI.extra.d").stdout();
        assertThat(listing).contains("hello.raw").contains("other.raw");
        List<String> listed = new ArrayList<>();
        disk.path("esp").path("extensions").forEach(e -> listed.add(e.path("path").asText()));
        assertThat(listed).containsExactly("/EFI/BOOT/BOOTX64.EFI.extra.d/hello.raw", "/EFI/BOOT/BOOTX64.EFI.extra.d/other.raw");
        for (String name : List.of("hello", "other")) {
            Path copy = w.resolve(name + ".raw");
            mcopy.runOk("-n", "-i", esp.toString(), "::/EFI/BOOT/BOOTX64.EFI.extra.d/" + name + ".raw", copy.toString());
            assertThat(Files.readAllBytes(copy)).as(name).isEqualTo(Files.readAllBytes(out.resolve("extensions/" + name + ".raw")));
        }
        MainTest.Run inspect = run("disk", "inspect", out.resolve(disk.path("file").asText()).toString(), "--cert",
                keys.resolve("db.crt").toString());
        assertThat(inspect.code()).as(inspect.out() + inspect.err()).isZero();
        assertThat(inspect.out()).contains("/EFI/BOOT/BOOTX64.EFI.extra.d/hello.raw")
                .contains("2 extension image(s) systemd-stub passes to the initrd");
    }

    @Test
    void twoBuildsAreByteIdenticalAndVerify() throws IOException {
        Path second = build("second");
        for (String f : List.of("manifest.json", "extensions/hello.raw", "extensions/other.raw", "extensions/other.verity",
                "extensions/other.roothash.p7s", "ipe-policy.txt", manifest.path("disk").path("file").asText())) {
            assertThat(Files.readAllBytes(second.resolve(f))).as(f).isEqualTo(Files.readAllBytes(out.resolve(f)));
        }
        MainTest.Run v = run("verify", second.toString(), "--ca", keys.resolve("ca.crt").toString(), "--db-cert",
                keys.resolve("db.crt").toString());
        assertThat(v.code()).as(v.out() + v.err()).isZero();
        assertThat(v.out()).contains("extension hello").contains("extension other");
    }
}
