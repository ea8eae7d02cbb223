package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.testing.ExampleSpec;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * {@code cairn build} with {@code rootfs.ima} (and {@code rootfs.selinux}): the SquashFS in
 * {@code rootfs.img} is extracted by {@code unsquashfs -xattrs} (as root, so security.* is written)
 * and {@code evmctl ima_verify --key ima.der} accepts every executable regular file cairn signed
 * (with {@code files: executables}: setuid, group- and other-executable files too; no
 * non-executable file, symlink or directory carries a signature); a file whose content is changed
 * after extraction is rejected. The manifest names the IMA signer under {@code keys.ima}, and
 * {@code cairn verify} accepts the set; a second build has the same image bytes. The labels are setfiles' (see {@link SelinuxLabelIT}).
 */
class BuildImaIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    @Test
    void evmctlAcceptsEverySignedExecutableAndRejectsAChangedOne() throws Exception {
        ToolOracle evmctl = ToolOracle.require("evmctl", "ima-evm-utils");
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        ToolOracle getfattr = ToolOracle.require("getfattr", "attr");
        ToolOracle.requireFile(SelinuxLabelIT.FILE_CONTEXTS, "selinux-policy-default");
        if (!dev.cairn.testing.NastyTree.isRoot()) {
            unavailable("unsquashfs -xattrs writes security.ima only as root");
        }
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        Path root = dir.resolve("rootfs");
        Files.createDirectories(root.resolve("usr/sbin"));
        Files.createDirectories(root.resolve("usr/lib/x86_64-linux-gnu"));
        Files.write(root.resolve("usr/sbin/daemon"), SeededData.bytes(11, 700_000));
        Files.write(root.resolve("usr/bin/suid"), SeededData.bytes(12, 5_000));
        Files.write(root.resolve("usr/bin/groupx"), SeededData.bytes(13, 100));
        Files.write(root.resolve("usr/bin/empty"), new byte[0]);
        Files.write(root.resolve("usr/bin/dup"), SeededData.bytes(11, 700_000)); // same content as daemon
        Files.write(root.resolve("usr/lib/x86_64-linux-gnu/libz.so.1"), SeededData.bytes(14, 90_000));
        Files.createSymbolicLink(root.resolve("usr/bin/link"), Path.of("hello"));
        for (String[] m : new String[][] {{"usr/sbin/daemon", "rwxr-xr-x"}, {"usr/bin/suid", "rwxr-xr-x"}, {"usr/bin/groupx", "rw-r-x---"},
            {"usr/bin/empty", "rwx------"}, {"usr/bin/dup", "rwxr-xr-x"}, {"usr/lib/x86_64-linux-gnu/libz.so.1", "rw-r--r--"}}) {
            Files.setPosixFilePermissions(root.resolve(m[0]), PosixFilePermissions.fromString(m[1]));
        }
        String yaml = Files.readString(spec).replace("  compression: zstd\n", "  compression: zstd\n"
                + "  selinux: {fileContexts: " + SelinuxLabelIT.FILE_CONTEXTS + "}\n"
                + "  ima: {key: dev, files: executables, hash: sha256}\n");
        // pin the set-uid bit with a pseudo definition, as a real root's /usr/bin/su has it
        yaml = yaml.replace("    - \"usr/bin/hello m 755 0 0\"\n", "    - \"usr/bin/hello m 755 0 0\"\n    - \"usr/bin/suid m 4755 0 0\"\n");
        Files.writeString(spec, yaml);
        Path out = dir.resolve("out");
        Path devKeys = dir.resolve("dev-keys");
        MainTest.Run r = run("build", spec.toString(), "--out", out.toString(), "--dev-keys", devKeys.toString());
        assertThat(r.code()).as(r.err()).isZero();

        JsonNode manifest = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        assertThat(manifest.path("keys").path("ima").path("certificateSha256").asText()).matches("[0-9a-f]{64}");
        assertThat(manifest.path("keys").path("ima").path("subject").asText()).contains("IMA signer");
        assertThat(manifest.path("ima").path("files").asText()).isEqualTo("executables");
        assertThat(manifest.path("selinux").path("files").size()).isGreaterThanOrEqualTo(2);
        MainTest.Run v = run("verify", out.toString(), "--ca", dir.resolve("keys/ca.crt").toString(), "--db-cert",
                dir.resolve("keys/db.crt").toString());
        assertThat(v.code()).as(v.out() + v.err()).isZero();

        // signatures and labels keep the image reproducible: a second build from scratch has the same bytes
        Path out2 = dir.resolve("out2");
        MainTest.Run again = run("build", spec.toString(), "--out", out2.toString(), "--dev-keys", devKeys.toString(), "--force");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(Files.mismatch(out.resolve("rootfs.img"), out2.resolve("rootfs.img"))).isEqualTo(-1L);

        // the SquashFS part of rootfs.img, then extracted with its xattrs
        Path sq = dir.resolve("rootfs.sqfs");
        Files.copy(out.resolve("rootfs.img"), sq);
        try (RandomAccessFile f = new RandomAccessFile(sq.toFile(), "rw")) {
            f.setLength(manifest.path("squashfs").path("size").asLong());
        }
        Path x = dir.resolve("x");
        unsquashfs.runOk("-q", "-n", "-xattrs", "-d", x.toString(), sq.toString());
        Path der = devKeys.resolve("ima.der");
        List<String> signed = new ArrayList<>();
        List<String> unsigned = new ArrayList<>();
        try (Stream<Path> s = Files.walk(x)) {
            for (Path p : s.sorted().toList()) {
                String rel = x.relativize(p).toString();
                boolean has = getfattr.run(TIMEOUT, null, List.of("-h", "--only-values", "-n", "security.ima", p.toString()), null).exitCode() == 0;
                boolean exec = Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && Files.getPosixFilePermissions(p).stream().anyMatch(q -> q.name().endsWith("EXECUTE"));
                assertThat(has).as(rel + " signed").isEqualTo(exec);
                if (has) {
                    evmctl.run(TIMEOUT, null, List.of("ima_verify", "-k", der.toString(), p.toString()), null).assertExit(0);
                    signed.add(rel);
                } else {
                    unsigned.add(rel);
                }
            }
        }
        assertThat(signed).containsExactlyInAnyOrder("usr/bin/hello", "usr/sbin/daemon", "usr/bin/suid", "usr/bin/groupx",
                "usr/bin/empty", "usr/bin/dup");
        assertThat(unsigned).contains("usr/lib/x86_64-linux-gnu/libz.so.1", "usr/bin/link", "etc/hostname");
        // labels came along: the daemon is bin_t, as setfiles would label it
        assertThat(getfattr.runOk("-h", "--only-values", "-n", "security.selinux", x.resolve("usr/sbin/daemon").toString()).stdout())
                .isEqualTo("system_u:object_r:bin_t:s0\0");

        // one changed byte: rejected
        Path daemon = x.resolve("usr/sbin/daemon");
        try (RandomAccessFile f = new RandomAccessFile(daemon.toFile(), "rw")) {
            f.seek(1234);
            int b = f.read();
            f.seek(1234);
            f.write(b ^ 1);
        }
        assertThat(evmctl.run(TIMEOUT, null, List.of("ima_verify", "-k", der.toString(), daemon.toString()), null).exitCode()).isNotZero();
    }

    private static void unavailable(String msg) {
        if (ToolOracle.isCi()) {
            throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(msg);
    }
}
