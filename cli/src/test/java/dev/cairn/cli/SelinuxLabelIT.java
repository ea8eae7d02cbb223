package dev.cairn.cli;

import static dev.cairn.cli.OciOracleIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * setfiles as oracle for {@code squashfs create --file-contexts}: a tree of typical root-file-system
 * paths (programs, configuration, logs, unit files, home directories, /tmp and /run under
 * {@code <<none>>}, device nodes, a fifo, a socket, symlinks, paths that only match through
 * {@code file_contexts.subs_dist} such as /lib64, /usr/lib64, /lib/systemd, /var/run,
 * /etc/systemd/system) is labelled by cairn with Debian's selinux-policy-default file contexts
 * (about 5,000 rules and the generated .homedirs), and a copy of it by
 * {@code setfiles -r COPY FILE COPY}; the labels unsquashfs restores from cairn's image must equal
 * setfiles', path by path, byte for byte (the trailing NUL included). A second run from a tarball
 * whose entries carry labels already ({@code tar --xattrs}) checks that cairn replaces them as
 * {@code setfiles -F} does and keeps them where setfiles leaves the entry alone. Needs root
 * (setfiles and unsquashfs write security.* attributes, mknod): skipped locally otherwise, a
 * failure under {@code CI=true}. The debootstrapped Debian 12 root that .ci/run makes
 * ({@code src-test-fixtures/debian-rootfs.sh}: /opt/cairn-fixtures/debian-bookworm-minbase.tar, or
 * {@code -Dcairn.debian.rootfs=TAR|DIR}) is compared too.
 */
class SelinuxLabelIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    static final Path FILE_CONTEXTS = Path.of("/etc/selinux/default/contexts/files/file_contexts");

    @TempDir
    Path dir;

    ToolOracle setfiles;
    ToolOracle unsquashfs;
    ToolOracle getfattr;

    @BeforeEach
    void needRootAndPolicy() throws IOException {
        setfiles = ToolOracle.require("setfiles", "policycoreutils");
        unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        getfattr = ToolOracle.require("getfattr", "attr");
        ToolOracle.requireFile(FILE_CONTEXTS, "selinux-policy-default");
        String uid = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .map(l -> l.split("\\s+")[2]).findFirst().orElse("?");
        if (!uid.equals("0")) {
            unavailable("setfiles and unsquashfs -xattrs write security.selinux: root is needed (effective uid " + uid + ")");
        }
    }

    @Test
    void cairnLabelsATypicalTreeAsSetfilesDoes() throws IOException {
        Path src = dir.resolve("src");
        typicalTree(src);
        Path copy = dir.resolve("copy");
        ToolOracle.require("cp", "coreutils").runOk("-a", src.toString(), copy.toString());
        setfiles.runOk("-r", copy.toString(), FILE_CONTEXTS.toString(), copy.toString());
        Map<String, String> theirs = labels(copy);

        Path img = dir.resolve("img.sqfs");
        String out = ok("squashfs", "create", src.toString(), img.toString(), "--file-contexts", FILE_CONTEXTS.toString(), "--json").out();
        Map<String, String> ours = labels(extract(img, "ours"));

        assertSameLabels(ours, theirs);
        // the tree really exercises the rules: many distinct labels, and entries setfiles leaves unlabelled
        assertThat(theirs.values().stream().distinct().count()).isGreaterThan(25);
        assertThat(theirs.values()).contains("", "73797374656d5f753a6f626a6563745f723a6c69625f743a733000"); // lib_t, with its NUL
        assertThat(out).contains("\"unlabelled\" : " + theirs.values().stream().filter(String::isEmpty).count());
    }

    @Test
    void labelsFromTheSourceAreReplacedExceptWhereSetfilesLeavesTheEntry() throws IOException {
        Path src = dir.resolve("src");
        typicalTree(src);
        for (String s : new String[] {"run/systemd/notify", "dev/log", "run/user/1000/bus"}) {
            Files.delete(src.resolve(s)); // tar leaves sockets out
        }
        ToolOracle setfattr = ToolOracle.require("setfattr", "attr");
        // a wrong label where the policy has one, and one where it says <<none>> (with the NUL the kernel stores)
        setfattr.runOk("-h", "-n", "security.selinux", "-v", "0x" + hex("system_u:object_r:user_home_t:s0"), src.resolve("etc/passwd").toString());
        setfattr.runOk("-h", "-n", "security.selinux", "-v", "0x" + hex("system_u:object_r:user_tmp_t:s0"), src.resolve("tmp/session/data").toString());
        setfattr.runOk("-h", "-n", "security.selinux", "-v", "0x" + hex("unconfined_u:object_r:bin_t:s0"), src.resolve("usr/bin/ls").toString());
        Path tar = dir.resolve("src.tar");
        ToolOracle.require("tar", "tar").run(TIMEOUT, src, List.of("--xattrs", "--xattrs-include=*", "--numeric-owner", "-cf",
                tar.toString(), "."), null).assertExit(0);
        Path copy = dir.resolve("copy");
        ToolOracle.require("cp", "coreutils").runOk("-a", src.toString(), copy.toString());
        // -F: the whole context replaced (without it setfiles changes only the type of a labelled file)
        setfiles.runOk("-F", "-r", copy.toString(), FILE_CONTEXTS.toString(), copy.toString());
        Map<String, String> theirs = labels(copy);
        assertThat(theirs.get("./tmp/session/data")).isEqualTo(hex("system_u:object_r:user_tmp_t:s0"));

        Path img = dir.resolve("img.sqfs");
        ok("squashfs", "create", tar.toString(), img.toString(), "--file-contexts", FILE_CONTEXTS.toString());
        assertSameLabels(labels(extract(img, "ours")), theirs);
    }

    /**
     * The widest check: every entry of this machine's /etc, /usr/bin, /usr/sbin, /usr/lib/systemd,
     * /usr/libexec, /usr/share/doc, /var, /boot, /opt (tens of thousands of paths) as
     * {@code setfiles -n -v} says it would label them, against {@link FileContexts#lookup} with the
     * entry's type. setfiles prints nothing for an entry it leaves unlabelled, and nothing for a
     * hard link's later names (the first name it walks to decides; its walk order is the
     * directory's), so those must be unlabelled for cairn too unless they are hard links.
     */
    @Test
    void everyPathOfThisHostAsSetfilesWouldLabelIt() throws IOException {
        List<String> roots = java.util.stream.Stream.of("/etc", "/usr/bin", "/usr/sbin", "/usr/lib/systemd", "/usr/libexec",
                "/usr/share/doc", "/var", "/boot", "/opt").filter(r -> Files.isDirectory(Path.of(r))).toList();
        List<String> findArgs = new java.util.ArrayList<>(roots);
        findArgs.addAll(List.of("-xdev", "-printf", "%p\\t%y\\t%n\\n"));
        String found = ToolOracle.require("find", "findutils").run(TIMEOUT, null, findArgs, null).stdout();
        List<String> args = new java.util.ArrayList<>(List.of("-n", "-v", FILE_CONTEXTS.toString()));
        args.addAll(roots);
        String said = setfiles.run(TIMEOUT, null, args, null).assertExit(0).stdout();
        Map<String, String> theirs = new java.util.HashMap<>();
        for (String line : said.split("\n")) {
            int from = line.indexOf(" from ");
            int to = line.lastIndexOf(" to ");
            if (line.startsWith("Would relabel ") && from > 0 && to > from) {
                theirs.put(line.substring("Would relabel ".length(), from), line.substring(to + 4));
            }
        }
        dev.cairn.pipeline.selinux.FileContexts fc = dev.cairn.pipeline.selinux.FileContexts.load(FILE_CONTEXTS);
        int paths = 0;
        StringBuilder diff = new StringBuilder();
        int bad = 0;
        for (String line : found.split("\n")) {
            String[] f = line.split("\t");
            if (f.length != 3) {
                continue;
            }
            int type = switch (f[1]) {
                case "f" -> 0100000;
                case "d" -> 040000;
                case "l" -> 0120000;
                case "b" -> 060000;
                case "c" -> 020000;
                case "p" -> 010000;
                case "s" -> 0140000;
                default -> 0;
            };
            paths++;
            String ours = fc.lookup(f[0], type);
            String t = theirs.get(f[0]);
            boolean laterHardLinkName = t == null && !f[1].equals("d") && Long.parseLong(f[2]) > 1;
            // a live system: what was removed between find's walk and setfiles' is not compared
            boolean gone = t == null && !Files.exists(Path.of(f[0]), java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (!java.util.Objects.equals(ours, t) && !laterHardLinkName && !gone && bad++ < 30) {
                diff.append(f[0]).append(" (").append(f[1]).append("): cairn ").append(ours).append(", setfiles ").append(t).append('\n');
            }
        }
        assertThat(paths).isGreaterThan(1000);
        assertThat(theirs.size()).isGreaterThan(paths / 2);
        if (bad > 0) {
            throw new AssertionFailedError(bad + " of " + paths + " host paths differ:\n" + diff);
        }
    }

    @Test
    void aDebootstrappedDebianRoot() throws IOException {
        Path given = ToolOracle.requireFile(Path.of(System.getProperty("cairn.debian.rootfs",
                "/opt/cairn-fixtures/debian-bookworm-minbase.tar")), "debootstrap (src-test-fixtures/debian-rootfs.sh, run by .ci/run)");
        Path copy = dir.resolve("copy");
        Files.createDirectories(copy);
        if (Files.isDirectory(given)) {
            ToolOracle.require("cp", "coreutils").runOk("-a", given + "/.", copy.toString());
        } else {
            ToolOracle.require("tar", "tar").runOk("--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", given.toString(),
                    "-C", copy.toString());
        }
        Path img = dir.resolve("img.sqfs");
        ok("squashfs", "create", copy.toString(), img.toString(), "--file-contexts", FILE_CONTEXTS.toString());
        setfiles.runOk("-r", copy.toString(), FILE_CONTEXTS.toString(), copy.toString());
        assertSameLabels(labels(extract(img, "ours")), labels(copy));
    }

    /** Equal maps, or a failure listing only the entries that differ (label hex decoded). */
    static void assertSameLabels(Map<String, String> ours, Map<String, String> theirs) {
        StringBuilder diff = new StringBuilder();
        java.util.Set<String> all = new java.util.TreeSet<>(ours.keySet());
        all.addAll(theirs.keySet());
        int n = 0;
        for (String p : all) {
            String a = ours.get(p);
            String b = theirs.get(p);
            if (!java.util.Objects.equals(a, b) && n++ < 50) {
                diff.append(p).append(": cairn ").append(text(a)).append(", setfiles ").append(text(b)).append('\n');
            }
        }
        if (n > 0) {
            throw new AssertionFailedError(n + " of " + all.size() + " entries differ:\n" + diff);
        }
    }

    private static String text(String hex) {
        return hex == null ? "(no such entry)" : hex.isEmpty() ? "(unlabelled)"
                : "'" + new String(java.util.HexFormat.of().parseHex(hex), StandardCharsets.ISO_8859_1).replace("\0", "\\0") + "'";
    }

    private Path extract(Path img, String name) {
        Path out = dir.resolve(name);
        unsquashfs.runOk("-q", "-n", "-xattrs", "-d", out.toString(), img.toString());
        return out;
    }

    /** Every entry below {@code root} ("./usr/bin") → its security.selinux in hex ("" when it has none). */
    Map<String, String> labels(Path root) {
        Map<String, String> all = new TreeMap<>();
        String list = ToolOracle.require("find", "findutils").run(TIMEOUT, root, List.of(".", "-print0"), null).assertExit(0).stdout();
        for (String p : list.split("\0")) {
            if (!p.isEmpty()) {
                all.put(p, "");
            }
        }
        // getfattr exits 1 when some entries have no such attribute; it prints the others
        String out = getfattr.run(TIMEOUT, root, List.of("-R", "-P", "-h", "-n", "security.selinux", "-e", "hex", "."), null).stdout();
        String file = null;
        for (String line : out.split("\n")) {
            if (line.startsWith("# file: ")) {
                file = unescape(line.substring("# file: ".length()));
                file = file.equals(".") ? "." : "./" + file.replaceFirst("^\\./", "");
            } else if (line.startsWith("security.selinux=0x")) {
                if (file == null || !all.containsKey(file)) {
                    throw new AssertionFailedError("getfattr names an entry find did not list: " + file);
                }
                all.put(file, line.substring("security.selinux=0x".length()));
            }
        }
        return all;
    }

    /** getfattr writes a backslash, control characters and non-ASCII bytes of a name as {@code \\ooo}. */
    static String unescape(String s) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.write(Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    static String hex(String context) {
        return java.util.HexFormat.of().formatHex((context + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    /** Typical root file system paths, every file type, and paths that need the policy's substitutions. */
    static void typicalTree(Path root) throws IOException {
        String[] dirs = {"bin", "boot/grub", "dev/pts", "dev/shm", "dev/mapper", "etc/ssh", "etc/systemd/system/multi-user.target.wants",
            "etc/selinux/default", "etc/init.d", "etc/cron.d", "etc/default", "etc/pam.d", "etc/sudoers.d", "home/alice/.ssh",
            "home/alice/.cache", "home/alice/public_html", "home/bob/bin", "lib/systemd/system", "lib/modules/6.1.0/kernel", "lib64",
            "media/cdrom", "mnt/data/x", "opt/app/bin", "proc", "root/.ssh", "run/lock", "run/systemd", "run/user/1000", "sbin", "srv/www",
            "sys", "tmp/session", "usr/bin", "usr/sbin", "usr/lib/systemd/system", "usr/lib/systemd/user", "usr/lib/x86_64-linux-gnu",
            "usr/lib64", "usr/lib32", "usr/libexec", "usr/local/bin", "usr/local/lib/python3", "usr/local/lib64", "usr/share/doc/bash",
            "usr/share/man/man1", "usr/include", "usr/src", "var/cache/apt/archives", "var/cache/private", "var/lib/dpkg/info",
            "var/lib/systemd", "var/lib/private/app", "var/lib/apt/lists", "var/log/apt", "var/log/journal", "var/log/private",
            "var/mail", "var/spool/cron/crontabs", "var/tmp", "var/www/html", "var/lock"};
        for (String d : dirs) {
            Files.createDirectories(root.resolve(d));
        }
        String[] files = {"boot/vmlinuz-6.1.0", "boot/initrd.img-6.1.0", "boot/grub/grub.cfg", "etc/passwd", "etc/shadow", "etc/group",
            "etc/gshadow", "etc/hosts", "etc/resolv.conf", "etc/fstab", "etc/machine-id", "etc/ssh/sshd_config", "etc/ssh/ssh_host_rsa_key",
            "etc/init.d/ssh", "etc/cron.d/e2scrub", "etc/default/grub", "etc/pam.d/login", "etc/sudoers", "etc/sudoers.d/README",
            "etc/ld.so.cache", "etc/selinux/config", "home/alice/.bashrc", "home/alice/.ssh/authorized_keys", "home/alice/public_html/i.html",
            "home/bob/bin/tool", "lib/systemd/systemd-udevd", "lib/systemd/system/ssh.service", "lib/modules/6.1.0/kernel/x.ko",
            "lib64/ld-linux-x86-64.so.2", "mnt/data/x/y", "opt/app/bin/app", "root/.bashrc", "root/.ssh/authorized_keys",
            "run/systemd/notify.state", "sbin/init", "srv/www/index.html", "tmp/session/data", "usr/bin/ls", "usr/bin/bash", "usr/bin/sudo",
            "usr/bin/passwd", "usr/bin/ssh", "usr/bin/python3.11", "usr/sbin/sshd", "usr/sbin/useradd", "usr/sbin/cron", "usr/sbin/ip",
            "usr/lib/systemd/systemd", "usr/lib/systemd/systemd-journald", "usr/lib/systemd/system/ssh.service",
            "usr/lib/systemd/system/getty@.service", "usr/lib/systemd/user/dbus.service", "usr/lib/x86_64-linux-gnu/libc.so.6",
            "usr/lib/x86_64-linux-gnu/libselinux.so.1", "usr/lib64/ld-linux-x86-64.so.2", "usr/lib32/libc.so.6", "usr/libexec/helper",
            "usr/local/bin/script", "usr/local/lib/python3/site.py", "usr/local/lib64/libx.so", "usr/share/doc/bash/README",
            "usr/share/man/man1/ls.1.gz", "usr/include/stdio.h", "var/cache/apt/archives/lock", "var/cache/private/c",
            "var/lib/dpkg/status", "var/lib/dpkg/info/bash.list", "var/lib/systemd/random-seed", "var/lib/private/app/state",
            "var/lib/apt/lists/lock", "var/log/syslog", "var/log/auth.log", "var/log/wtmp", "var/log/lastlog", "var/log/apt/history.log",
            "var/log/journal/x.journal", "var/log/private/p.log", "var/mail/alice", "var/spool/cron/crontabs/root", "var/tmp/t",
            "var/www/html/index.html", "etc/systemd/system/local.service", ".autorelabel"};
        for (String f : files) {
            Files.writeString(root.resolve(f), f + "\n");
        }
        for (String x : new String[] {"usr/bin/ls", "usr/bin/bash", "usr/sbin/sshd", "lib/systemd/systemd-udevd", "opt/app/bin/app",
            "home/bob/bin/tool", "usr/lib/systemd/systemd", "usr/libexec/helper", "usr/local/bin/script", "etc/init.d/ssh", "sbin/init"}) {
            Files.setPosixFilePermissions(root.resolve(x), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.createSymbolicLink(root.resolve("usr/bin/sh"), Path.of("bash"));
        Files.createSymbolicLink(root.resolve("var/run"), Path.of("../run"));
        Files.createSymbolicLink(root.resolve("etc/systemd/system/multi-user.target.wants/ssh.service"),
                Path.of("/lib/systemd/system/ssh.service"));
        Files.createSymbolicLink(root.resolve("usr/lib/x86_64-linux-gnu/libc.so"), Path.of("libc.so.6"));
        Files.createSymbolicLink(root.resolve("lib/libfoo.so"), Path.of("/usr/lib/libfoo.so.1"));
        Files.createSymbolicLink(root.resolve("etc/localtime"), Path.of("/usr/share/zoneinfo/UTC"));
        Files.createLink(root.resolve("usr/bin/python3"), root.resolve("usr/bin/python3.11"));
        ToolOracle mknod = ToolOracle.require("mknod", "coreutils");
        mknod.runOk(root.resolve("dev/null").toString(), "c", "1", "3");
        mknod.runOk(root.resolve("dev/console").toString(), "c", "5", "1");
        mknod.runOk(root.resolve("dev/tty1").toString(), "c", "4", "1");
        mknod.runOk(root.resolve("dev/sda").toString(), "b", "8", "0");
        mknod.runOk(root.resolve("dev/sda1").toString(), "b", "8", "1");
        mknod.runOk(root.resolve("dev/loop0").toString(), "b", "7", "0");
        mknod.runOk(root.resolve("dev/mapper/control").toString(), "c", "10", "236");
        ToolOracle.require("mkfifo", "coreutils").runOk(root.resolve("run/initctl").toString());
        ToolOracle.require("mkfifo", "coreutils").runOk(root.resolve("dev/xconsole").toString());
        // unix sockets: bound (and left behind) by a socket channel
        for (String s : new String[] {"run/systemd/notify", "dev/log", "run/user/1000/bus"}) {
            try (java.nio.channels.ServerSocketChannel ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                ch.bind(java.net.UnixDomainSocketAddress.of(root.resolve(s)));
            }
        }
    }

    private static void unavailable(String msg) {
        if (ToolOracle.isCi()) {
            throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(msg);
    }
}
