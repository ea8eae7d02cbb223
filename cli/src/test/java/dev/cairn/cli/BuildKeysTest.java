package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn build}'s key loading: a key of the wrong type fails before development keys are created. */
class BuildKeysTest {
    @TempDir
    Path dir;
    Path out;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(dir.resolve("rootfs/etc/marker"), "root\n");
        Files.createDirectories(dir.resolve("initramfs"));
        Files.writeString(dir.resolve("initramfs/init"), "#!/bin/sh\n");
        Files.writeString(dir.resolve("vmlinuz"), "k");
        Files.writeString(dir.resolve("stub.efi"), "s");
        TestPki.KeyAndCert ec = TestPki.get().ecLeaf();
        ec.writeKeyPem(dir.resolve("ec.key"));
        ec.writeCertPem(dir.resolve("ec.crt"));
        out = dir.resolve("out");
    }

    private Path spec(String... keys) throws IOException {
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, String.join("\n",
                "apiVersion: cairn.dev/v1",
                "image:",
                "  name: demo",
                "  version: 1.0.0",
                "rootfs:",
                "  dir: rootfs",
                "kernel:",
                "  linux: vmlinuz",
                "  stub: stub.efi",
                "  cmdline: root=x h=${verity.roothash}",
                "  initramfs:",
                "    dir: initramfs",
                "keys:",
                String.join("\n", keys),
                ""));
        return spec;
    }

    @Test
    void anEcPcrKeyFailsBeforeDevKeysAreCreated() throws Exception {
        Path spec = spec("  secureboot: dev", "  manifest: dev", "  pcr:", "    key: ec.key", "    cert: ec.crt");
        MainTest.Run r = MainTest.run("build", spec.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("spec.yaml:").contains("keys.pcr").contains("must be RSA");
        assertThat(out.resolve("dev-keys")).as("a failed build leaves no development keys behind").doesNotExist();
    }

    @Test
    void anEcVerityKeyFailsBeforeDevKeysAreCreatedInAnExplicitDir() throws Exception {
        Path spec = spec("  secureboot: dev", "  manifest: dev", "  verity:", "    key: ec.key", "    cert: ec.crt");
        Path keys = dir.resolve("keys");
        MainTest.Run r = MainTest.run("build", spec.toString(), "--out", out.toString(), "--dev-keys", keys.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("keys.verity").contains("must be RSA");
        assertThat(keys).doesNotExist();
    }

    @Test
    void anEcSecurebootKeyIsRefusedAndItsFallbackRolesWithIt() throws Exception {
        // no dev source at all: the check still runs (PCR, verity and IPE fall back to this key)
        Path spec = spec("  secureboot:", "    key: ec.key", "    cert: ec.crt", "  manifest:", "    key: ec.key", "    cert: ec.crt");
        MainTest.Run r = MainTest.run("build", spec.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("must be RSA");
        assertThat(out.resolve("dev-keys")).doesNotExist();
    }

    @Test
    void aDeferredKeyNeedsItsCertificateAndNothingElse() throws Exception {
        MainTest.Run r = MainTest.run("build", spec("  secureboot: defer", "  manifest: dev").toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("keys.secureboot", "a deferred key needs its certificate", "{cert: FILE, defer: true}");
        r = MainTest.run("build", spec("  secureboot:", "    defer: true", "  manifest: dev").toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("keys.secureboot", "cert");
        r = MainTest.run("build", spec("  secureboot:", "    key: ec.key", "    cert: ec.crt", "    defer: true", "  manifest: dev").toString(),
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("keys.secureboot", "key");
        // a deferred EC certificate for the secureboot role is still the wrong type, before any work
        r = MainTest.run("build", spec("  secureboot:", "    cert: ec.crt", "    defer: true", "  manifest: dev").toString(), "--out",
                out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("must be RSA");
        assertThat(out.resolve("dev-keys")).doesNotExist();
    }

    @Test
    void imaKeysAreNeverDeferred() throws Exception {
        Path spec = spec("  secureboot: dev", "  manifest: dev");
        Files.writeString(spec, Files.readString(spec).replace("  dir: rootfs\n",
                "  dir: rootfs\n  ima:\n    key:\n      cert: ec.crt\n      defer: true\n"));
        MainTest.Run r = MainTest.run("build", spec.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("rootfs.ima.key", "cannot be deferred");
        assertThat(out.resolve("dev-keys")).doesNotExist();
        Files.writeString(spec, Files.readString(spec).replace("    key:\n      cert: ec.crt\n      defer: true\n", "    key: dev\n"));
        r = MainTest.run("build", spec.toString(), "--out", out.toString(), "--unsigned");
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("rootfs.ima.key", "cannot be deferred");
        assertThat(out.resolve("dev-keys")).doesNotExist();
    }

    @Test
    void injectWithoutARequestInOutIsBadInput() throws Exception {
        TestPki.KeyAndCert rsa = TestPki.get().rsaLeaf();
        rsa.writeKeyPem(dir.resolve("rsa.key"));
        rsa.writeCertPem(dir.resolve("rsa.crt"));
        Path answers = Files.writeString(dir.resolve("answers.json"), "{}");
        MainTest.Run r = MainTest.run("build", spec("  secureboot:", "    key: rsa.key", "    cert: rsa.crt", "  manifest: dev").toString(),
                "--out", out.toString(), "--inject", answers.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("signing-request.json", "no signing request");
        MainTest.Run both = MainTest.run("build", spec("  secureboot: dev", "  manifest: dev").toString(), "--out", out.toString(),
                "--unsigned", "--inject", answers.toString());
        assertThat(both.code()).as(both.err()).isNotZero();
        assertThat(both.err()).contains("exclude each other");
    }
}
