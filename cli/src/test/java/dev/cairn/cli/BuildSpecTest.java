package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad specs fail before any work, naming FILE:LINE and the key: exit 3 for spec mistakes, 4 for
 * key sources that are unavailable. Nothing is written to the output directory. The kernel and
 * stub are stand-in files: the spec is checked before they are read.
 */
class BuildSpecTest {
    @TempDir
    Path dir;
    Path out;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(dir.resolve("rootfs/etc/marker"), "x\n");
        Files.createDirectories(dir.resolve("initramfs"));
        Files.writeString(dir.resolve("initramfs/init"), "#!/bin/sh\n");
        Files.writeString(dir.resolve("vmlinuz-6.1.0-9-amd64"), "k");
        Files.writeString(dir.resolve("vmlinuz-6.1.0-10-amd64"), "k");
        Files.writeString(dir.resolve("stub.efi"), "s");
        Files.writeString(dir.resolve("key.pem"), "not really a key");
        Files.writeString(dir.resolve("cert.pem"), "not really a cert");
        out = dir.resolve("out");
    }

    private static final String GOOD = String.join("\n",
            "apiVersion: cairn.dev/v1",                 // 1
            "image:",                                   // 2
            "  name: demo",                             // 3
            "  version: 1.0.0",                         // 4
            "rootfs:",                                  // 5
            "  dir: rootfs",                            // 6
            "kernel:",                                  // 7
            "  linux: vmlinuz-6.1.*-amd64",             // 8
            "  stub: stub.efi",                         // 9
            "  cmdline: root=x h=${verity.roothash}",   // 10
            "  initramfs:",                             // 11
            "    dir: initramfs",                       // 12
            "keys:",                                    // 13
            "  secureboot: dev",                        // 14
            "  manifest: dev",                          // 15
            "");

    private MainTest.Run build(String yaml) throws IOException {
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, yaml);
        return MainTest.run("build", spec.toString(), "--out", out.toString());
    }

    private void assertRefused(MainTest.Run r, int code, String... fragments) {
        assertThat(r.code()).as(r.err()).isEqualTo(code);
        assertThat(r.err()).contains(fragments);
        assertThat(out).as("nothing written before the spec is valid").doesNotExist();
    }

    @Test
    void goodSpecParsesAndPicksTheHighestKernelVersion() throws Exception {
        dev.cairn.pipeline.BuildSpec s = dev.cairn.pipeline.BuildSpec.load(writeSpec(GOOD));
        assertThat(s.kernel().linux().getFileName().toString()).isEqualTo("vmlinuz-6.1.0-10-amd64");
        assertThat(s.kernel().cmdline().variables()).containsExactly("verity.roothash");
        assertThat(s.outputs().tag()).isEqualTo("1.0.0");
        assertThat(s.ipe().version()).isEqualTo("1.0.0");
    }

    private Path writeSpec(String yaml) throws IOException {
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, yaml);
        return spec;
    }

    @Test
    void unknownKeyNamesItsLine() throws Exception {
        assertRefused(build(GOOD.replace("  stub: stub.efi", "  stbu: stub.efi")), 3, "spec.yaml:9: kernel.stbu: unknown key 'stbu'");
    }

    @Test
    void missingRootfsDirectory() throws Exception {
        assertRefused(build(GOOD.replace("dir: rootfs", "dir: nowhere")), 3, "spec.yaml:6: rootfs.dir:", "no such directory");
    }

    @Test
    void onlyStackerLayerCompressors() throws Exception {
        assertRefused(build(GOOD.replace("  dir: rootfs", "  dir: rootfs\n  compression: xz")), 3, "spec.yaml:7: rootfs.compression:",
                "zstd and gzip only, not xz");
    }

    @Test
    void imaAndSelinuxKeysAreCheckedWhenTheSpecIsRead() throws Exception {
        dev.cairn.pipeline.BuildSpec s = dev.cairn.pipeline.BuildSpec.load(writeSpec(GOOD.replace("  dir: rootfs",
                "  dir: rootfs\n  ima: {key: dev, files: all, hash: sha512}")));
        assertThat(s.rootfs().ima().files()).isEqualTo(dev.cairn.pipeline.BuildSpec.ImaFiles.ALL);
        assertThat(s.rootfs().ima().hash()).isEqualTo(dev.cairn.signing.ImaSignature.Hash.SHA512);
        assertThat(s.keys()).containsKey(dev.cairn.pipeline.KeyRole.IMA);
        assertThat(dev.cairn.pipeline.BuildSpec.load(writeSpec(GOOD.replace("  dir: rootfs", "  dir: rootfs\n  ima: {key: dev}")))
                .rootfs().ima().files()).isEqualTo(dev.cairn.pipeline.BuildSpec.ImaFiles.EXECUTABLES);
        assertRefused(build(GOOD.replace("  dir: rootfs", "  dir: rootfs\n  ima: {key: dev, files: some}")), 3,
                "spec.yaml:7: rootfs.ima.files:", "'executables' (regular files with an execute bit) or 'all', not 'some'");
        assertRefused(build(GOOD.replace("  dir: rootfs", "  dir: rootfs\n  ima: {key: dev, hash: md5}")), 3, "rootfs.ima.hash:", "not 'md5'");
        assertRefused(build(GOOD.replace("  dir: rootfs", "  dir: rootfs\n  ima: {files: all}")), 3, "rootfs.ima: missing 'key'");
        assertRefused(build(GOOD.replace("  manifest: dev", "  manifest: dev\n  ima: dev")), 3, "keys.ima:", "rootfs.ima.key");
        Files.writeString(dir.resolve("fc"), "/usr(/.*)?  -x  system_u:object_r:usr_t:s0\n");
        assertRefused(build(GOOD.replace("  dir: rootfs", "  dir: rootfs\n  selinux:\n    fileContexts: fc")), 3,
                "spec.yaml:8: rootfs.selinux.fileContexts:", "invalid file type -x");
        assertRefused(build(GOOD.replace("  dir: rootfs", "  dir: rootfs\n  selinux:\n    fileContexts: nothere")), 3,
                "rootfs.selinux.fileContexts:", "nothere");
    }

    @Test
    void missingKernelSaysWhatToInstall() throws Exception {
        assertRefused(build(GOOD.replace("vmlinuz-6.1.*-amd64", "/boot/vmlinuz-0.0.*-nothing")), 3, "spec.yaml:8: kernel.linux:",
                "nothing matches", "linux-image-amd64");
    }

    @Test
    void invalidCommandLineTemplates() throws Exception {
        assertRefused(build(GOOD.replace("${verity.roothash}", "${verity.rothash}")), 3, "spec.yaml:10: kernel.cmdline:",
                "unknown placeholder ${verity.rothash}");
        assertRefused(build(GOOD.replace("${verity.roothash}", "${verity.roothash")), 3, "spec.yaml:10", "unclosed '${'");
        assertRefused(build(GOOD.replace("${verity.roothash}", "$x")), 3, "spec.yaml:10", "write $$ for a literal $");
    }

    @Test
    void missingRequiredKeyRoleAndInitWithoutInit() throws Exception {
        assertRefused(build(GOOD.replace("  manifest: dev\n", "")), 3, "spec.yaml:13: keys: missing 'manifest'");
        Files.delete(dir.resolve("initramfs/init"));
        assertRefused(build(GOOD), 3, "spec.yaml:12: kernel.initramfs.dir:", "has no 'init' file");
    }

    @Test
    void unavailableKeySourcesAreExit4WithTheirLine() throws Exception {
        assertRefused(build(GOOD.replace("  secureboot: dev", "  secureboot:\n    key: missing.pem\n    cert: cert.pem")), 4,
                "spec.yaml:15: keys.secureboot.key:", "missing.pem: no such file (key source unavailable)");
        assertRefused(build(GOOD.replace("  secureboot: dev", "  secureboot:\n    key: key.pem\n    cert: cert.pem\n"
                + "    passEnv: CAIRN_TEST_SURELY_UNSET_VARIABLE")), 4, "keys.secureboot.passEnv:", "CAIRN_TEST_SURELY_UNSET_VARIABLE is not set");
        assertRefused(build(GOOD.replace("  secureboot: dev", "  secureboot:\n    key: key.pem\n    cert: cert.pem")), 4,
                "spec.yaml:14: keys.secureboot: key source unavailable");
        assertRefused(build(GOOD.replace("  secureboot: dev", "  secureboot:\n    pkcs11:\n      module: /nonexistent/libhsm.so\n"
                + "      token: t\n      pinEnv: PIN")), 4, "keys.secureboot.pkcs11.module:", "/nonexistent/libhsm.so: no such file");
        assertRefused(build(GOOD.replace("  secureboot: dev", "  secureboot: yes-please")), 3, "spec.yaml:14: keys.secureboot:",
                "a key source is 'dev'");
    }

    @Test
    void notYamlTwiceAndWrongApiVersion() throws Exception {
        assertRefused(build("apiVersion: [unclosed\n"), 3, "spec.yaml:", "not valid YAML");
        assertRefused(build(GOOD.replace("  name: demo\n", "  name: demo\n  name: other\n")), 3, "spec.yaml:4: image.name: given twice");
        assertRefused(build(GOOD.replace("cairn.dev/v1", "cairn.dev/v0")), 3, "spec.yaml:1: apiVersion: must be cairn.dev/v1");
        assertRefused(build(GOOD.replace("name: demo", "name: Demo Image")), 3, "spec.yaml:3: image.name:");
        assertRefused(build(GOOD + "image2: &a {x: 1}\n"), 3, "spec.yaml:16: image2: YAML tags and anchors are not allowed");
        assertRefused(build(GOOD + "image3: 1\n"), 3, "spec.yaml:16: image3: unknown key 'image3'");
    }

    @Test
    void cmdlineTemplateRendersAndRefusesOverlongResults() {
        dev.cairn.pipeline.CmdlineTemplate t = dev.cairn.pipeline.CmdlineTemplate.parse("  a=${image.name}   b=$$x\n c=${verity.hashoffset} ");
        assertThat(t.render(java.util.Map.of("image.name", "demo", "verity.hashoffset", "4096"))).isEqualTo("a=demo b=$x c=4096");
        dev.cairn.pipeline.CmdlineTemplate big = dev.cairn.pipeline.CmdlineTemplate.parse("x=" + "y".repeat(2000) + " ${verity.salt}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> big.render(java.util.Map.of("verity.salt", "ab".repeat(64))))
                .hasMessageContaining("over 2047");
    }
}
