package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.NastyTree;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every extended attribute namespace against mksquashfs, squashfs-tools-ng and the kernel, as root
 * (trusted. and security. attributes need it): a tree made with setfattr, setcap and mknod, whose
 * files, directories, symlinks, device nodes and fifo carry {@code user.}, {@code trusted.},
 * {@code security.capability} and {@code security.selinux} attributes, plus an overlay opaque
 * directory, a POSIX ACL (which neither SquashFS writer can store) and files whose zero blocks are
 * holes in the source or written out (mksquashfs records only the former as sparse). The tree lies
 * under target/, not in /tmp: tmpfs may refuse security.selinux. Without root this skips, and fails
 * under CI=true (CI runs as root).
 */
class XattrOracleIT {
    private static final Duration LONG = Duration.ofMinutes(10);
    static Path work;
    static Path tree;

    @BeforeAll
    static void tree() throws IOException {
        if (!NastyTree.isRoot()) {
            if (ToolOracle.isCi()) {
                Assertions.fail("CI runs as root: trusted. and security. attributes need it");
            }
            Assumptions.abort("needs root (trusted. and security. attributes)");
        }
        work = Files.createTempDirectory(Files.createDirectories(Path.of("target").toAbsolutePath()), "xattr-it-");
        tree = work.resolve("tree");
        ToolOracle.require("setfattr", "attr");
        ToolOracle.require("setcap", "libcap2-bin");
        // the source as a system would have it: attributes set by the standard tools, not by cairn
        sh(work, String.join("\n",
                "set -e",
                "mkdir -p tree/usr/bin tree/etc tree/dev tree/upper/opaque tree/upper/plain tree/data",
                "cp /bin/true tree/usr/bin/ping",
                "setcap cap_net_raw+ep tree/usr/bin/ping",
                "setfattr -n security.selinux -v system_u:object_r:ping_exec_t:s0 tree/usr/bin/ping",
                "echo hostname > tree/etc/hostname",
                "setfattr -n user.mime_type -v text/plain tree/etc/hostname",
                "setfattr -n trusted.md5sum -v 0x00ff00ff00ff00ff00ff tree/etc/hostname",
                "setfattr -n security.selinux -v system_u:object_r:etc_t:s0 tree/etc tree/etc/hostname",
                "setfattr -n user.dir -v on-a-directory tree/etc",
                "setfattr -n trusted.overlay.opaque -v y tree/upper/opaque",
                "echo below > tree/upper/opaque/file",
                "ln -s ../etc/hostname tree/upper/link",
                "setfattr -h -n trusted.overlay.redirect -v /elsewhere tree/upper/link",
                "setfattr -h -n security.selinux -v system_u:object_r:etc_t:s0 tree/upper/link",
                "ln -s /does/not/exist tree/upper/dangling",
                "setfattr -h -n security.selinux -v system_u:object_r:unlabeled_t:s0 tree/upper/dangling",
                "mknod tree/dev/null c 1 3",
                "mknod tree/dev/loop0 b 7 0",
                "mknod tree/upper/plain/whiteout c 0 0",
                "mkfifo tree/dev/initctl",
                "setfattr -n security.selinux -v system_u:object_r:null_device_t:s0 tree/dev/null",
                "setfattr -n trusted.dev -v block tree/dev/loop0",
                "setfattr -n security.selinux -v system_u:object_r:initctl_t:s0 tree/dev/initctl",
                // a capability on a hard-linked file: both names show it
                "cp /bin/true tree/usr/bin/arping && setcap cap_net_raw,cap_net_admin+eip tree/usr/bin/arping",
                "ln tree/usr/bin/arping tree/usr/bin/arping-link",
                // a large value, and the same large value on a second file (stored once, out of line)
                "head -c 2000 /dev/zero | tr '\\0' 'v' > big.value",
                "echo a > tree/data/big-a && setfattr -n user.big -v \"$(cat big.value)\" tree/data/big-a",
                "echo b > tree/data/big-b && setfattr -n user.big -v \"$(cat big.value)\" tree/data/big-b",
                // zero blocks: written out (mksquashfs: basic inode), holes (extended, sparse), mixed
                "dd if=/dev/zero of=tree/data/zeros bs=128K count=3 status=none",
                "truncate -s 1M tree/data/holes",
                "{ head -c 131072 /dev/zero; echo data; } > tree/data/zero-then-data",
                "{ echo data; head -c 300000 /dev/zero; } > tree/data/data-then-zeros",
                "head -c 100 /dev/zero > tree/data/small-zeros",
                // a POSIX ACL (system.posix_acl_access): SquashFS cannot store it, mksquashfs leaves it out too
                "echo acl > tree/data/with-acl",
                "setfattr -n system.posix_acl_access"
                        + " -v 0x0200000001000600ffffffff02000600e803000004000400ffffffff10000600ffffffff20000400ffffffff tree/data/with-acl",
                "chmod 0 tree/etc/hostname"));
    }

    @AfterAll
    static void cleanUp() {
        if (work != null && !Boolean.getBoolean("cairn.it.keep")) {
            sh(work.getParent(), "umount " + work.resolve("mnt") + " 2>/dev/null; rm -rf " + work);
        }
    }

    static ToolOracle.Result sh(Path cwd, String script) {
        return ToolOracle.require("bash", "bash").run(LONG, cwd, List.of("-c", script), null);
    }

    static SquashfsResult build(Path image, SquashfsOptions o, SourceFilter f) throws IOException {
        return SquashfsOracleIT.build(tree, image, o, f);
    }

    private static Path mksquashfs(String name, String... extra) {
        Path img = work.resolve(name);
        List<String> args = new ArrayList<>(List.of(tree.toString(), img.toString(), "-noappend", "-no-progress", "-quiet",
                "-mkfs-time", "0", "-processors", "2"));
        args.addAll(List.of(extra));
        ToolOracle.Result r = SquashfsOracleIT.mksquashfs().run(LONG, work, args, null).assertExit(0);
        // mksquashfs 4.5 reports the ACL it leaves out per file
        assertThat(r.stdout() + r.stderr()).contains("system.posix_acl_access");
        return img;
    }

    /** getfattr -d of every entry below {@code dir} (hex values, symlinks' own), as a set of per-entry blocks. */
    static Set<String> attributes(Path dir) {
        ToolOracle.require("getfattr", "attr");
        // exit 1 only when a dangling symlink was looked at through -L; never here (-h), but keep stdout either way
        String out = sh(dir, "getfattr -R -h -d -m - -e hex --absolute-names . | sed 's/^# file: \\.\\//# file: /'").stdout();
        Set<String> blocks = new TreeSet<>();
        for (String b : out.strip().split("\n\n")) {
            // system.posix_acl_access: the ACL neither writer stores
            String kept = String.join("\n", b.lines().filter(l -> !l.startsWith("system.")).toList());
            if (kept.contains("=")) {
                blocks.add(kept);
            }
        }
        return blocks;
    }

    @Test
    void sqfsdiffFindsNothingBetweenCairnAndMksquashfs() throws IOException {
        Path theirs = mksquashfs("mksquashfs-zstd.sqfs", "-comp", "zstd");
        Path ours = work.resolve("cairn-zstd.sqfs");
        SquashfsResult r = build(ours, SquashfsOptions.defaults(Compression.ZSTD).withProcessors(2), SourceFilter.none());
        assertThat(r.warnings()).containsExactly("1 entry has extended attributes in the system. namespace (system.posix_acl_access),"
                + " which SquashFS cannot store (only user., trusted. and security.): left out, as mksquashfs does");
        ToolOracle.Result diff = ToolOracle.require("sqfsdiff", "squashfs-tools-ng")
                .run(LONG, work, List.of("-a", theirs.toString(), "-b", ours.toString()), null);
        assertThat(diff.stdout() + diff.stderr()).as("sqfsdiff output").isEmpty();
        diff.assertExit(0);
        // inode by inode: basic or extended, sparse count, xattr index, block list
        ToolOracle rd = ToolOracle.require("rdsquashfs", "squashfs-tools-ng");
        for (String p : List.of("/data/zeros", "/data/holes", "/data/zero-then-data", "/data/data-then-zeros", "/data/small-zeros",
                "/usr/bin/ping", "/usr/bin/arping", "/upper/link", "/upper/opaque", "/dev/null", "/dev/loop0", "/dev/initctl",
                "/upper/plain/whiteout", "/etc", "/")) {
            assertThat(rd.run(LONG, work, List.of("-s", p, ours.toString()), null).assertExit(0).stdout()).as(p)
                    .isEqualTo(rd.run(LONG, work, List.of("-s", p, theirs.toString()), null).assertExit(0).stdout());
        }
        assertThat(rd.run(LONG, work, List.of("-s", "/data/zeros", ours.toString()), null).stdout()).contains("Inode type: file");
        assertThat(rd.run(LONG, work, List.of("-s", "/data/holes", ours.toString()), null).stdout()).contains("Inode type: extended file");
    }

    /**
     * Byte for byte without attributes: mksquashfs 4.5 stores an entry's attributes in the order the
     * file system lists them (ext4: by namespace), cairn (as mksquashfs 4.6+) sorted by name, so
     * only the inodes (zero blocks, devices, hard links) can be compared this way here; sqfsdiff
     * above compares the attributes.
     */
    @Test
    void gzipImageWithoutXattrsIsByteIdenticalToMksquashfs() throws IOException {
        Path theirs = work.resolve("mksquashfs-gzip-identical.sqfs");
        SquashfsOracleIT.mksquashfs().run(LONG, work, List.of(tree.toString(), theirs.toString(), "-noappend", "-no-progress", "-quiet",
                "-mkfs-time", "0", "-processors", "2", "-comp", "gzip", "-all-time", "0", "-all-root", "-no-xattrs"), null).assertExit(0);
        Path ours = work.resolve("cairn-gzip-identical.sqfs");
        build(ours, SquashfsOptions.defaults(Compression.GZIP).withTime(0).withProcessors(2).withXattrs(false),
                new SourceFilter(List.of(), 0L, 0L));
        assertThat(Files.mismatch(ours, theirs)).as("first differing byte").isEqualTo(-1L);
    }

    @Test
    void kernelMountShowsEveryAttributeAndTheCapabilityAndExtractRestoresThem() throws IOException {
        Path ours = work.resolve("cairn-mount.sqfs");
        build(ours, SquashfsOptions.defaults(Compression.ZSTD).withProcessors(2), SourceFilter.none());
        Set<String> source = attributes(tree);
        assertThat(String.join("\n", source)).contains("security.capability=0x").contains("trusted.overlay.opaque=0x79")
                .contains("# file: upper/link\nsecurity.selinux=").contains("# file: dev/null\nsecurity.selinux=")
                .contains("trusted.dev=").contains("# file: dev/initctl\nsecurity.selinux=");

        Path mnt = Files.createDirectories(work.resolve("mnt"));
        ToolOracle.Result m = ToolOracle.require("mount", "mount")
                .run(LONG, work, List.of("-t", "squashfs", "-o", "loop,ro", ours.toString(), mnt.toString()), null);
        if (m.exitCode() != 0) {
            if (ToolOracle.isCi()) {
                Assertions.fail("CI runs as root and must be able to loop-mount: " + m.stderr());
            }
            Assumptions.abort("cannot loop-mount here: " + m.stderr());
        }
        try {
            assertThat(attributes(mnt)).isEqualTo(source);
            ToolOracle getcap = ToolOracle.require("getcap", "libcap2-bin");
            String want = getcap.run(LONG, tree, List.of("usr/bin/ping", "usr/bin/arping-link"), null).assertExit(0).stdout();
            assertThat(want).contains("usr/bin/ping cap_net_raw=ep").contains("usr/bin/arping-link cap_net_admin,cap_net_raw=eip");
            assertThat(getcap.run(LONG, mnt, List.of("usr/bin/ping", "usr/bin/arping-link"), null).assertExit(0).stdout()).isEqualTo(want);
        } finally {
            ToolOracle.require("umount", "mount").run(LONG, work, List.of(mnt.toString()), null).assertExit(0);
        }

        // extract as root: every attribute back, symlinks' and devices' included, capabilities after the owner
        Path out = work.resolve("extracted");
        List<String> warnings = new ArrayList<>();
        try (SquashfsImage img = SquashfsImage.open(ours)) {
            Extractor.extract(img, out, List.of(), true, warnings::add);
        }
        assertThat(warnings).isEmpty();
        assertThat(attributes(out)).isEqualTo(source);
        assertThat(ToolOracle.require("getcap", "libcap2-bin").run(LONG, out, List.of("usr/bin/ping"), null).assertExit(0).stdout())
                .isEqualTo("usr/bin/ping cap_net_raw=ep\n");
    }

    @Test
    void xattrRegexesLeaveOutWhatTheyMatch() throws IOException {
        Path ours = work.resolve("cairn-only-security.sqfs");
        SquashfsResult r = build(ours, SquashfsOptions.defaults(Compression.LZ4).withProcessors(2),
                SourceFilter.none().withXattrs("^security\\.", "selinux$"));
        assertThat(r.warnings()).as("the ACL did not pass the include: nothing to warn about").isEmpty();
        try (SquashfsImage img = SquashfsImage.open(ours)) {
            assertThat(img.xattrs(img.lookup("usr/bin/ping"))).containsOnlyKeys("security.capability");
            assertThat(img.xattrs(img.lookup("etc/hostname"))).isEmpty();
            assertThat(img.xattrs(img.lookup("upper/opaque"))).isEmpty();
        }
    }
}
