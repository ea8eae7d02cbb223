package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ExampleSpec;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * squashfs-tools' {@code unsquashfs -lln} reads what {@code rootfs.overlay} and {@code rootfs.clean}
 * made: modes and owners of the overlay's entries whatever the checkout's modes, the emptied
 * machine-id, and nothing of what the clean-ups removed.
 */
class RootfsTreeOracleIT {
    @TempDir
    Path dir;

    @Test
    void unsquashfsListsTheOverlayAndNotTheCleanedState() throws Exception {
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        Path root = dir.resolve("rootfs");
        Files.createDirectories(root.resolve("etc/ssh"));
        Files.writeString(root.resolve("etc/ssh/ssh_host_rsa_key"), "PRIVATE\n");
        Files.writeString(root.resolve("etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
        Files.createDirectories(root.resolve("var/log"));
        Files.writeString(root.resolve("var/log/dpkg.log"), "log\n");
        Path o = dir.resolve("overlay");
        Files.createDirectories(o.resolve("usr/local/bin"));
        Files.writeString(o.resolve("usr/local/bin/tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(o.resolve("usr/local/bin/tool"), PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(o.resolve("usr/local"), PosixFilePermissions.fromString("rwx------"));
        Files.writeString(o.resolve("motd"), "hi\n");
        Files.setPosixFilePermissions(o.resolve("motd"), PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.writeString(spec, Files.readString(spec).replace("  compression: zstd\n",
                "  compression: zstd\n  overlay: [overlay]\n  clean: [machine-id, ssh-host-keys, logs]\n"));
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), dir.resolve("out")).build());

        String listing = unsquashfs.runOk("-lln", "-d", "", r.out().resolve("rootfs.img").toString()).stdout();
        List<String> lines = Arrays.stream(listing.split("\n"))
                .map(l -> l.replaceAll("\\s+", " ").replaceAll(" 2023-11-14 22:13 ", " T "))
                .toList();
        assertThat(lines).contains(
                "-r--r--r-- 0/0 0 T /etc/machine-id",
                "drwxr-xr-x 0/0 3 T /etc/ssh",
                "-rw-r--r-- 0/0 3 T /motd",
                "drwxr-xr-x 0/0 26 T /usr/local",
                "-rwxr-xr-x 0/0 10 T /usr/local/bin/tool");
        assertThat(listing).doesNotContain("ssh_host_rsa_key", "dpkg.log");
    }
}
