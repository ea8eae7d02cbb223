package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.NastyTree;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real root file system: Debian 12 minbase with systemd, udev, kmod and iputils-ping, as
 * {@code src-test-fixtures/debian-rootfs.sh} debootstraps and packs it (.ci/run writes it to
 * /opt/cairn-fixtures; {@code -Dcairn.debian.rootfs=TAR} points elsewhere). Unpacked as root with
 * its extended attributes, it becomes a cairn image and a mksquashfs image with the same options:
 * sqfsdiff must find no difference (entries, types down to basic/extended inodes, contents, owners,
 * modes, xattrs), also for cairn's image of the tarball itself, and {@code /usr/bin/ping} keeps its
 * {@code security.capability}. Without the
 * tarball or root this skips, and fails under CI=true.
 */
class DebianRootfsIT {
    private static final Duration LONG = Duration.ofMinutes(20);
    static final String FIXTURE = "src-test-fixtures/debian-rootfs.sh (run by .ci/run)";
    static Path work;
    static Path root;

    static Path tarball() {
        return Path.of(System.getProperty("cairn.debian.rootfs", "/opt/cairn-fixtures/debian-bookworm-minbase.tar"));
    }

    @BeforeAll
    static void unpack() throws IOException {
        if (!NastyTree.isRoot()) {
            if (ToolOracle.isCi()) {
                Assertions.fail("CI runs as root: the root file system's owners, devices and trusted./security. attributes need it");
            }
            Assumptions.abort("needs root");
        }
        Path tar = ToolOracle.requireFile(tarball(), FIXTURE);
        // not /tmp: tmpfs may refuse security.selinux and the like
        work = Files.createTempDirectory(Files.createDirectories(Path.of("target").toAbsolutePath()), "debian-it-");
        root = Files.createDirectories(work.resolve("root"));
        ToolOracle.require("tar", "tar").run(LONG, work, List.of("--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf",
                tar.toString(), "-C", root.toString()), null).assertExit(0);
    }

    @AfterAll
    static void cleanUp() {
        if (work != null) {
            ToolOracle.require("rm", "coreutils").run(LONG, work.getParent(), List.of("-rf", work.toString()), null);
        }
    }

    @Test
    void sqfsdiffFindsNoDifferenceAndPingKeepsItsCapability() throws IOException {
        Path theirs = work.resolve("mksquashfs.sqfs");
        SquashfsOracleIT.mksquashfs().run(LONG, work, List.of(root.toString(), theirs.toString(), "-noappend", "-comp", "zstd",
                "-no-progress", "-quiet", "-mkfs-time", "0", "-processors", "2"), null).assertExit(0);
        Path ours = work.resolve("cairn.sqfs");
        SquashfsResult r = SquashfsOracleIT.build(root, ours, SquashfsOptions.defaults(Compression.ZSTD).withProcessors(2), SourceFilter.none());
        // only what SquashFS cannot store may be left out (mksquashfs leaves it out too)
        assertThat(r.warnings()).allMatch(w -> w.contains("in the system. namespace"));

        ToolOracle.Result diff = ToolOracle.require("sqfsdiff", "squashfs-tools-ng")
                .run(LONG, work, List.of("-a", theirs.toString(), "-b", ours.toString()), null);
        assertThat(diff.stdout() + diff.stderr()).as("sqfsdiff output").isEmpty();
        diff.assertExit(0);

        // the tarball itself as the source (GNU tar's SCHILY.xattr records; the binary ACL value is left out
        // unread): the same file system, sqfsdiff compares contents, not the compressor
        Path fromTar = work.resolve("cairn-from-tar.sqfs");
        SquashfsResult t;
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(fromTar, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.LZ4).withProcessors(2));
             java.io.InputStream in = Files.newInputStream(tarball())) {
            TarSource.add(in, w, SourceFilter.none());
            t = w.finish();
        }
        assertThat(t.warnings()).isEqualTo(r.warnings());
        ToolOracle.Result tarDiff = ToolOracle.require("sqfsdiff", "squashfs-tools-ng")
                .run(LONG, work, List.of("-a", theirs.toString(), "-b", fromTar.toString()), null);
        assertThat(tarDiff.stdout() + tarDiff.stderr()).as("sqfsdiff mksquashfs vs cairn from the tarball").isEmpty();
        tarDiff.assertExit(0);

        String want = ToolOracle.require("getfattr", "attr").run(LONG, root,
                List.of("-h", "-n", "security.capability", "-e", "hex", "usr/bin/ping"), null).assertExit(0).stdout()
                .lines().filter(l -> l.startsWith("security.capability=")).findFirst().orElse("").replace("security.capability=", "");
        assertThat(want).as("the fixture's ping has a capability").startsWith("0x");
        try (SquashfsImage img = SquashfsImage.open(ours)) {
            byte[] cap = img.xattrs(img.lookup("usr/bin/ping")).get("security.capability");
            assertThat(cap).as("security.capability of /usr/bin/ping in cairn's image").isNotNull();
            assertThat("0x" + HexFormat.of().formatHex(cap)).isEqualTo(want);
        }
        // and the kernel reads it: getcap on the loop-mounted image
        Path mnt = Files.createDirectories(work.resolve("mnt"));
        ToolOracle.Result m = ToolOracle.require("mount", "mount")
                .run(LONG, work, List.of("-t", "squashfs", "-o", "loop,ro", ours.toString(), mnt.toString()), null);
        if (m.exitCode() != 0) {
            if (ToolOracle.isCi()) {
                Assertions.fail("CI runs as root and must be able to loop-mount: " + m.stderr());
            }
            return;
        }
        try {
            assertThat(ToolOracle.require("getcap", "libcap2-bin").run(LONG, mnt, List.of("usr/bin/ping"), null).assertExit(0).stdout())
                    .isEqualTo("usr/bin/ping cap_net_raw=ep\n");
        } finally {
            ToolOracle.require("umount", "mount").run(LONG, work, List.of(mnt.toString()), null).assertExit(0);
        }
    }
}
