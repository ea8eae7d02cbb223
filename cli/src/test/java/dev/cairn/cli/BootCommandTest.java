package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn boot}'s checks that need no QEMU: usage errors, bad targets and missing tools, before anything starts. */
class BootCommandTest {
    @TempDir
    Path dir;

    @Test
    void usageErrorsExitTwo() throws IOException {
        Files.write(dir.resolve("x.efi"), "MZ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        MainTest.Run negative = run("boot", dir.toString(), "--timeout", "-1");
        assertThat(negative.code()).as(negative.err()).isEqualTo(2);
        assertThat(negative.err()).contains("--timeout must be 0 (none) or more seconds, not -1");
        MainTest.Run small = run("boot", dir.toString(), "--memory", "16");
        assertThat(small.code()).as(small.err()).isEqualTo(2);
        assertThat(small.err()).contains("memory must be at least 64 MiB, not 16");
        assertThat(run("boot").code()).isEqualTo(2);
    }

    @Test
    void targetsThatAreNotImageSetsAreBadInput() throws IOException {
        MainTest.Run missing = run("boot", dir.resolve("nope").toString());
        assertThat(missing.code()).isEqualTo(3);
        assertThat(missing.err()).isEqualTo("cairn: " + dir.resolve("nope") + ": no such file or directory" + System.lineSeparator());
        MainTest.Run empty = run("boot", dir.toString());
        assertThat(empty.code()).isEqualTo(3);
        assertThat(empty.err()).contains("no disk.raw and no *.efi UKI: not a cairn build output");
        Path squashfs = Files.write(dir.resolve("rootfs.img"), "hsqs".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(run("boot", squashfs.toString()).err()).contains("neither a UKI (no MZ header) nor a disk image");
    }

    @Test
    void aUkiOutsideAnImageSetNeedsAVariableStore() throws IOException {
        Path uki = Files.write(dir.resolve("x.efi"), "MZ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Path bin = Files.createDirectory(dir.resolve("bin"));
        Files.setPosixFilePermissions(Files.writeString(bin.resolve("qemu-system-x86_64"), "#!/bin/sh\nexit 1\n"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        java.util.Map<String, String> old = Environment.swap(java.util.Map.of("PATH", bin.toString()));
        try {
            MainTest.Run r = run("boot", uki.toString(), "--no-tpm", "--ovmf-code", uki.toString());
            assertThat(r.code()).as(r.err()).isEqualTo(3);
            assertThat(r.err()).contains("no OVMF variable store", "--ovmf-vars FILE");
        } finally {
            Environment.swap(old);
        }
    }

    @Test
    void missingQemuIsBadInputNamingItsPackage() throws IOException {
        Path uki = Files.write(dir.resolve("x.efi"), "MZ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Path empty = Files.createDirectory(dir.resolve("empty"));
        java.util.Map<String, String> old = Environment.swap(java.util.Map.of("PATH", empty.toString()));
        try {
            MainTest.Run r = run("boot", uki.toString(), "--ovmf-vars", uki.toString());
            assertThat(r.code()).as(r.err()).isEqualTo(3);
            assertThat(r.err()).isEqualTo("cairn: qemu-system-x86_64 not found (searched " + empty
                    + "): install Debian package qemu-system-x86" + System.lineSeparator());
        } finally {
            Environment.swap(old);
        }
    }
}
