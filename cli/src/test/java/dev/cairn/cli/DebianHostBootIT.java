package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.boot.BootRequest;
import dev.cairn.pipeline.boot.BootResult;
import dev.cairn.pipeline.boot.BootTarget;
import dev.cairn.pipeline.boot.SecureBootMachine;
import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.DebianBootFiles;
import dev.cairn.testing.boot.SecureBootFirmware;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: the Debian host example ({@code examples/debian}) boots from its disk image alone with Secure Boot on
 * (QEMU + OVMF + swtpm, cairn's development keys enrolled): Debian 12's systemd as PID 1 on the dm-verity root that
 * systemd's own generators found from {@code roothash=} and the partition UUIDs, IPE enforcing on Debian's 6.12
 * kernel, system extensions merged by systemd-sysext from the ESP.
 *
 * <p>The spec is the example's with one more overlay holding {@code cairn-test.service}, which prints one
 * {@code CAIRN-TEST-<CHECK>=...} line per in-guest check on the console, and a second spec extension: besides the
 * example's {@code hello} (ID=debian VERSION_ID=12 from the root's os-release) {@code foreign} (ID=fedora), which
 * systemd-sysext must refuse. cairn puts both on the ESP ({@code /EFI/BOOT/BOOTX64.EFI.extra.d/}, where
 * {@code cairn-extensions.service} finds them) and trusts both root hashes in the IPE policy. One
 * shared boot for those checks; a second boot of the disk with one byte of the root partition flipped must show
 * the kernel's dm-verity error. The spec is built twice ({@code --force}, same development keys): identical
 * {@code disk.raw} bytes.
 *
 * <p>Fixtures (made by {@code .ci/run}): the Debian tarball {@code /opt/cairn-fixtures/debian-bookworm-minbase.tar}
 * ({@code -Dcairn.debian.rootfs}) and the dracut initramfs {@code /opt/cairn-fixtures/debian-initrd.img}
 * ({@code -Dcairn.debian.initrd}, made by {@code examples/debian/initrd.sh}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DebianHostBootIT {
    static final String DONE = "CAIRN-TEST-DONE";

    Path dir;
    Path out;
    String rootHash;
    BootResult boot;
    BootResult tampered;
    byte[] disk;
    byte[] rebuilt;

    @BeforeAll
    void buildAndBoot(@TempDir Path tmp) throws Exception {
        dir = tmp;
        SecureBootFirmware.requireInstalled();
        DebianBootFiles.stub();
        DebianBootFiles.ipeKernel();
        ToolOracle.require("swtpm", "swtpm");
        Path tarball = ToolOracle.requireFile(Path.of(System.getProperty("cairn.debian.rootfs",
                "/opt/cairn-fixtures/debian-bookworm-minbase.tar")), "debootstrap (src-test-fixtures/debian-rootfs.sh, run by .ci/run)");
        Path initrd = ToolOracle.requireFile(Path.of(System.getProperty("cairn.debian.initrd",
                "/opt/cairn-fixtures/debian-initrd.img")), "dracut-core in a chroot (examples/debian/initrd.sh, run by .ci/run)");

        // the example's spec and trees, its inputs, and the test overlay
        Path example = Path.of("..", "examples", "debian").toAbsolutePath().normalize();
        Path debian = dir.resolve("debian");
        for (String part : List.of("image.yaml", "overlay", "initramfs-extra", "extensions")) {
            copyTree(example.resolve(part), debian.resolve(part));
        }
        Files.createDirectories(debian.resolve("inputs"));
        Files.createSymbolicLink(debian.resolve("inputs/rootfs.tar"), tarball.toAbsolutePath());
        Files.createSymbolicLink(debian.resolve("inputs/initrd.img"), initrd.toAbsolutePath());
        writeTestOverlay(debian.resolve("test-overlay"));
        Path foreign = Files.createDirectories(debian.resolve("foreign/usr/bin"));
        Files.writeString(foreign.resolve("foreign-hello"), "#!/bin/sh\necho foreign\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(foreign.resolve("foreign-hello"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path spec = debian.resolve("image.yaml");
        String yaml = Files.readString(spec, StandardCharsets.UTF_8);
        String helloEntry = "    dir: extensions/hello\n";
        assertThat(yaml).contains("overlay: [overlay]").contains(helloEntry);
        Files.writeString(spec, yaml.replace("overlay: [overlay]", "overlay: [overlay, test-overlay]")
                .replace(helloEntry, helloEntry + "  - name: foreign\n    dir: foreign\n    osId: fedora\n    versionId: \"40\"\n"),
                StandardCharsets.UTF_8);

        // cold build, then the same spec again from scratch with the same development keys: same bytes
        out = dir.resolve("out");
        long t0 = System.nanoTime();
        ok(run("build", spec.toString(), "--out", out.toString(), "--force", "-q"));
        long cold = System.nanoTime() - t0;
        Path out2 = dir.resolve("out2");
        ok(run("build", spec.toString(), "--out", out2.toString(), "--dev-keys", out.resolve("dev-keys").toString(), "--force", "-q"));
        t0 = System.nanoTime();
        Path out3 = dir.resolve("out3");
        ok(run("build", spec.toString(), "--out", out3.toString(), "--dev-keys", out.resolve("dev-keys").toString(), "-q"));
        long cached = System.nanoTime() - t0;
        disk = Files.readAllBytes(out.resolve("disk.raw"));
        rebuilt = Files.readAllBytes(out2.resolve("disk.raw"));
        rootHash = Files.readString(out.resolve("rootfs.roothash"), StandardCharsets.US_ASCII).trim();
        System.out.printf("[DebianHostBootIT] tarball %d bytes, disk.raw %d bytes, rootfs.img %d bytes, cold build %.1f s, cached %.1f s%n",
                Files.size(tarball), disk.length, Files.size(out.resolve("rootfs.img")), cold / 1e9, cached / 1e9);

        boot = SecureBootMachine.boot(BootRequest.builder(BootTarget.diskImage(out.resolve("disk.raw"))).ovmfVars(out.resolve(BootTarget.DEV_VARS))
                .expect(DONE).timeout(Duration.ofMinutes(8)).searchPath(System.getenv("PATH")).build());
        System.out.println("[DebianHostBootIT] " + boot.describe());
        boot.lines().stream().filter(l -> l.contains("CAIRN-")).forEach(l -> System.out.println("[DebianHostBootIT] " + l));

        // one flipped byte at the start of the root partition (the SquashFS superblock, read by the mount)
        Path flipped = dir.resolve("disk-flipped.raw");
        byte[] bad = disk.clone();
        int at = Math.toIntExact(partitionStart(disk, uuidOf(rootHash.substring(0, 32))));
        bad[at] ^= 0x01;
        Files.write(flipped, bad);
        tampered = SecureBootMachine.boot(BootRequest.builder(BootTarget.diskImage(flipped)).ovmfVars(out.resolve(BootTarget.DEV_VARS))
                .expect("is corrupted").timeout(Duration.ofMinutes(5)).searchPath(System.getenv("PATH")).build());
        System.out.println("[DebianHostBootIT] flipped byte at " + at + ": " + tampered.describe());
    }

    /** The overlay of the test variant: cairn-test.service runs the in-guest checks once the system is up. */
    static void writeTestOverlay(Path root) throws IOException {
        Path units = Files.createDirectories(root.resolve("etc/systemd/system/multi-user.target.wants"));
        Files.writeString(root.resolve("etc/systemd/system/cairn-test.service"), String.join("\n",
                "[Unit]",
                "Description=cairn DebianHostBootIT in-guest checks",
                "After=multi-user.target cairn-ready.service",
                "[Service]",
                "Type=simple",
                "ExecStart=/usr/lib/cairn/cairn-test",
                "StandardOutput=tty",
                "StandardError=tty",
                "TTYPath=/dev/console",
                "[Install]",
                "WantedBy=multi-user.target",
                ""), StandardCharsets.US_ASCII);
        Files.createSymbolicLink(units.resolve("cairn-test.service"), Path.of("/etc/systemd/system/cairn-test.service"));
        Path script = Files.createDirectories(root.resolve("usr/lib/cairn")).resolve("cairn-test");
        Files.writeString(script, String.join("\n",
                "#!/bin/sh",
                "# DebianHostBootIT: one CAIRN-TEST-<CHECK>=<value> line per check",
                "timeout 300 systemctl is-system-running --wait >/dev/null 2>&1",
                "while systemctl is-active -q cairn-ready.service; do sleep 1; done  # its marker line first",
                "ipe=/sys/kernel/security/ipe",
                "echo \"CAIRN-TEST-PID1=$(cat /proc/1/comm) $(readlink /proc/1/exe)\"",
                "echo \"CAIRN-TEST-IPE-ACTIVE=$(cat $ipe/policies/cairn_debian/active 2>&1)\"",
                "echo \"CAIRN-TEST-IPE-ENFORCE=$(cat $ipe/enforce 2>&1)\"",
                "out=$(/usr/bin/true 2>&1); echo \"CAIRN-TEST-ROOT-EXEC=rc$? $out\"",
                "out=$(/usr/bin/cairn-hello 2>&1); echo \"CAIRN-TEST-EXT-EXEC=rc$? $out\"",
                "echo \"CAIRN-TEST-USR-FS=$(findmnt -no FSTYPE /usr)\"",
                "cp /usr/bin/true /tmp/true-copy && chmod 755 /tmp/true-copy",
                "out=$(/tmp/true-copy 2>&1); echo \"CAIRN-TEST-TMPFS-EXEC=rc$? $out\"",
                "cp /usr/bin/cairn-hello /tmp/hello-copy && chmod 755 /tmp/hello-copy",
                "out=$(/tmp/hello-copy 2>&1); echo \"CAIRN-TEST-TMPFS-EXT-EXEC=rc$? $out\"",
                "echo \"CAIRN-TEST-MERGED=$(systemd-sysext status --no-legend 2>&1 | tr -s ' \\n' ' ')\"",
                "echo \"CAIRN-TEST-FOREIGN-FILE=$(ls /usr/bin/foreign-hello 2>&1)\"",
                "journalctl -b -u systemd-sysext.service -o cat --no-pager 2>&1 | sed 's/^/CAIRN-TEST-SYSEXT-LOG: /'",
                "dmsetup table 2>&1 | sed 's/^/CAIRN-TEST-DM: /'",
                "SYSTEMD_LOG_LEVEL=debug systemd-sysext refresh 2>&1 | grep -i foreign | sed 's/^/CAIRN-TEST-SYSEXT-DEBUG: /'",
                "echo " + DONE,
                ""), StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.sorted().toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                Files.createDirectories(t.getParent());
                if (Files.isSymbolicLink(p)) {
                    Files.createSymbolicLink(t, Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** A GPT UUID (text form) of 32 hex digits, as systemd names the partition the root hash's first half names. */
    static String uuidOf(String hex) {
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-" + hex.substring(16, 20) + "-"
                + hex.substring(20, 32);
    }

    /** The byte offset of the partition whose unique GUID is {@code uuid}, read from the primary GPT (512-byte sectors). */
    static long partitionStart(byte[] disk, String uuid) {
        ByteBuffer b = ByteBuffer.wrap(disk).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new String(disk, 512, 8, StandardCharsets.US_ASCII)).isEqualTo("EFI PART");
        int count = b.getInt(512 + 80);
        int size = b.getInt(512 + 84);
        long entries = b.getLong(512 + 72) * 512;
        for (int i = 0; i < count; i++) {
            int e = Math.toIntExact(entries + (long) i * size);
            String guid = guid(disk, e + 16);
            if (guid.equals(uuid)) {
                return b.getLong(e + 32) * 512;
            }
        }
        throw new AssertionError("no partition " + uuid + " in the GPT");
    }

    static String guid(byte[] d, int at) {
        HexFormat h = HexFormat.of();
        byte[] g = Arrays.copyOfRange(d, at, at + 16);
        return h.formatHex(new byte[] {g[3], g[2], g[1], g[0]}) + "-" + h.formatHex(new byte[] {g[5], g[4]}) + "-"
                + h.formatHex(new byte[] {g[7], g[6]}) + "-" + h.formatHex(g, 8, 10) + "-" + h.formatHex(g, 10, 16);
    }

    static void ok(MainTest.Run r) {
        assertThat(r.code()).as(r.err()).isZero();
    }

    /** The value of the first {@code CAIRN-TEST-<check>=} line (the serial getty's prompt may precede it on its line). */
    String value(String check) {
        return prefixed("CAIRN-TEST-" + check + "=").stream().findFirst().map(String::trim).orElseThrow(() -> new AssertionError(
                "no CAIRN-TEST-" + check + " line\n" + boot.describe() + "\n" + boot.console()));
    }

    List<String> prefixed(String prefix) {
        return boot.lines().stream().filter(l -> l.contains(prefix)).map(l -> l.substring(l.indexOf(prefix) + prefix.length())).toList();
    }

    @Test
    void systemdRunsAsPid1OnTheVerityRootSystemdFound() {
        assertThat(boot.booted()).as(boot.describe() + "\n" + boot.console()).isTrue();
        assertThat(boot.console()).contains("Kernel is locked down from EFI Secure Boot")
                .contains("systemd-veritysetup-generator").contains("Using verity root device /dev/mapper/root");
        String cmdline = boot.lines().stream().filter(l -> l.contains("Kernel command line:")).findFirst().orElseThrow();
        assertThat(cmdline).contains(" roothash=" + rootHash).doesNotContain(" root=");
        String marker = boot.valueAfter("CAIRN-DEBIAN-READY ").orElseThrow(() -> new AssertionError("no marker\n" + boot.console()));
        List<String> failed = prefixed("CAIRN-DEBIAN-FAILED ");
        System.out.println("[DebianHostBootIT] marker: " + marker + (failed.isEmpty() ? "" : "; failed units: " + failed));
        assertThat(marker).startsWith("root=/dev/mapper/root ").containsPattern("state=(running|degraded) ")
                .containsPattern("sysext=.*hello");
        assertThat(value("PID1")).startsWith("systemd ").endsWith("/systemd");
    }

    @Test
    void rootHashSignaturesAreCheckedByTheKernel() {
        // dm-verity keeps root_hash_sig_key_desc in the table of a volume opened with a signature, which the kernel
        // has checked against its keyrings (Secure Boot's db: the platform keyring) before the table loaded
        List<String> verity = prefixed("CAIRN-TEST-DM: ").stream().filter(l -> l.contains(" verity ")).toList();
        assertThat(verity).as(boot.console()).anySatisfy(l -> assertThat(l).startsWith("root:").contains(rootHash)
                .contains("root_hash_sig_key_desc"));
        assertThat(verity).as("the hello extension's volume, opened by systemd-sysext with its signature partition")
                .anySatisfy(l -> assertThat(l).doesNotStartWith("root:").contains("root_hash_sig_key_desc"));
    }

    @Test
    void systemdSysextMergesTheCairnExtensionAndRefusesAForeignOne() {
        assertThat(value("USR-FS")).isEqualTo("overlay");
        assertThat(value("EXT-EXEC")).startsWith("rc0 cairn-hello: hello from the hello system extension");
        assertThat(value("MERGED")).contains("hello").doesNotContain("foreign");
        assertThat(value("FOREIGN-FILE")).contains("No such file");
        // systemd-sysext 252 skips a non-matching image with a debug message only: the boot's merge names just hello,
        // a debug-level refresh names the refusal
        assertThat(prefixed("CAIRN-TEST-SYSEXT-LOG: ")).contains("Using extensions 'hello'.");
        assertThat(prefixed("CAIRN-TEST-SYSEXT-DEBUG: ")).contains("Extension 'foreign' is for OS 'fedora', but deployed on top of 'debian'.");
    }

    @Test
    void ipeLetsOnlyVerifiedCodeRun() {
        assertThat(value("IPE-ACTIVE")).isEqualTo("1");
        assertThat(value("IPE-ENFORCE")).isEqualTo("1");
        assertThat(value("ROOT-EXEC")).isEqualTo("rc0");
        assertThat(value("EXT-EXEC")).startsWith("rc0");
        assertThat(value("TMPFS-EXEC")).startsWith("rc126").contains("Permission denied");
        assertThat(value("TMPFS-EXT-EXEC")).startsWith("rc126").contains("Permission denied");
    }

    @Test
    void aFlippedByteInTheRootIsADmVerityError() {
        assertThat(tampered.booted()).as(tampered.describe() + "\n" + tampered.console()).isTrue();
        assertThat(tampered.console()).containsPattern("device-mapper: verity: [0-9]+:[0-9]+: data block [0-9]+ is corrupted");
        assertThat(tampered.console()).doesNotContain("CAIRN-DEBIAN-READY");
    }

    @Test
    void twoBuildsGiveTheSameDiskBytes() {
        assertThat(rebuilt.length).isEqualTo(disk.length);
        assertThat(Arrays.equals(disk, rebuilt)).as("disk.raw of two --force builds").isTrue();
    }
}
