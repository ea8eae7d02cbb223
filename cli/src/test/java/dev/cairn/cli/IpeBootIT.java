package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.boot.BootRequest;
import dev.cairn.pipeline.boot.BootResult;
import dev.cairn.pipeline.boot.BootTarget;
import dev.cairn.pipeline.boot.SecureBootMachine;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.BusyboxInitramfs;
import dev.cairn.testing.boot.DebianBootFiles;
import dev.cairn.testing.boot.SecureBootFirmware;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, "Real IPE test": Debian 12's 6.12 kernel (IPE built in, dm-verity root-hash signatures and IPE policy
 * signatures trusted from the platform keyring) in a UKI that cairn builds and signs with its own db key, booted by
 * OVMF with Secure Boot on and cairn's PK/KEK/db enrolled ({@code cairn keys secureboot create} + {@code ovmf-vars}).
 * The kernel fills its platform keyring from db, so the one db key cairn made is what every kernel check trusts.
 *
 * <p>One boot; {@code /init} (busybox) prints one {@code CAIRN-IPE-…} line per check and the tests assert them:
 * <ol>
 *   <li>{@code veritysetup open --root-hash-signature} with a root-hash signature by a key outside db is refused by
 *       the kernel ({@code -ENOKEY}); with cairn's signature by the db key ({@code cairn verity sign}) the volume opens
 *       and reads "verified (with signature)";
 *   <li>a policy signed by a key outside db (the test PKI leaf) is refused by {@code new_policy};
 *   <li>the policy cairn wrote and signed ({@code cairn ipe policy|sign}: {@code boot_verified=TRUE} for the
 *       initramfs, {@code dmverity_roothash=sha256:<root>} for the volume, {@code DEFAULT op=EXECUTE action=DENY}) is
 *       loaded, activated, and the kernel's copy of its text is byte for byte cairn's file;
 *   <li>a program on the SquashFS ({@code cairn squashfs create}) opened through dm-verity ({@code cairn verity
 *       format}) runs, and IPE's success audit names the root-hash rule;
 *   <li>the same program copied to a tmpfs ran before the policy was active and is denied (EACCES) after.
 * </ol>
 * The SquashFS and its hash tree travel in the initramfs and are opened through loop devices.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IpeBootIT {
    static final String POLICY_NAME = "cairn_ipe_test";
    static final String DONE = "CAIRN-IPE-DONE";

    Path dir;
    String rootHash;
    String policyText;
    BootResult boot;

    @BeforeAll
    void bootOnce(@TempDir Path tmp) throws Exception {
        dir = tmp;
        SecureBootFirmware.requireInstalled();
        DebianBootFiles.stub();
        Path kernel = DebianBootFiles.ipeKernel();
        String release = DebianBootFiles.release(kernel);
        Path modules = Path.of("/lib/modules", release);
        Path veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin").executable();

        // cairn's own Secure Boot keys and the variable store holding them
        Path keys = dir.resolve("sb-keys");
        ok(run("keys", "secureboot", "create", "--dir", keys.toString(), "--key-size", "2048", "--subject", "cairn ipe test"));
        Path vars = dir.resolve("vars.fd");
        ok(run("keys", "secureboot", "ovmf-vars", "--dir", keys.toString(), "--out", vars.toString(),
                "--template", ToolOracle.requireFile(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), "ovmf").toString()));
        Path dbKey = keys.resolve("db.key");
        Path dbCert = keys.resolve("db.crt");
        TestPki.KeyAndCert other = TestPki.get().rsaLeaf();
        Path otherKey = other.writeKeyPem(dir.resolve("other.key"));
        Path otherCert = other.writeCertPem(dir.resolve("other.crt"));

        // the verity root: a SquashFS with one program (static busybox), its hash tree, the root-hash signatures
        Path initramfs = BusyboxInitramfs.writeTree(dir.resolve("initramfs"));
        Path images = Files.createDirectories(initramfs.resolve("images"));
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(BusyboxInitramfs.BUSYBOX, rootfs.resolve("busybox"));
        ok(run("squashfs", "create", "-all-root", dir.resolve("rootfs").toString(), images.resolve("root.sqfs").toString()));
        Path rootHashFile = images.resolve("roothash");
        ok(run("verity", "format", images.resolve("root.sqfs").toString(), images.resolve("root.verity").toString(),
                "--root-hash-file", rootHashFile.toString()));
        rootHash = Files.readString(rootHashFile, StandardCharsets.US_ASCII);
        ok(run("verity", "sign", "--root-hash-file", rootHashFile.toString(), "--out", images.resolve("db.p7s").toString(),
                "--key", dbKey.toString(), "--cert", dbCert.toString()));
        ok(run("verity", "sign", "--root-hash-file", rootHashFile.toString(), "--out", images.resolve("other.p7s").toString(),
                "--key", otherKey.toString(), "--cert", otherCert.toString()));

        // the IPE policy trusting that root hash and the initramfs, signed by db; the same policy by the other key
        Path policy = images.resolve("policy.pol");
        ok(run("ipe", "policy", "--name", POLICY_NAME, "--version", "1.0.0", "--trust-roothash-file", rootHashFile.toString(),
                "--trust-boot-verified", "--out", policy.toString()));
        policyText = Files.readString(policy, StandardCharsets.US_ASCII);
        ok(run("ipe", "sign", policy.toString(), "--out", images.resolve("db.p7b").toString(), "--key", dbKey.toString(),
                "--cert", dbCert.toString()));
        Path otherPolicy = dir.resolve("other.pol");
        ok(run("ipe", "policy", "--name", "cairn_untrusted", "--version", "1.0.0", "--trust-roothash-file", rootHashFile.toString(),
                "--out", otherPolicy.toString()));
        ok(run("ipe", "sign", otherPolicy.toString(), "--out", images.resolve("other.p7b").toString(), "--key", otherKey.toString(),
                "--cert", otherCert.toString()));

        // initramfs: busybox and /init; cairn adds veritysetup with its libraries and the modules (decompressed, with
        // their dependencies: dm-mod, dm-bufio, reed_solomon) the 6.12 kernel does not build in
        Path init = initramfs.resolve("init");
        Files.writeString(init, initScript(), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
        MainTest.Run initrd = run("initrd", "create", initramfs.toString(), dir.resolve("initrd.zst").toString(), "--compress", "zstd",
                "--binary", veritysetup.toString(), "--kernel-modules", modules.toString(),
                "--module", "dm-verity", "--module", "loop", "--module", "squashfs");
        ok(initrd);
        assertThat(initrd.out()).contains("dm-mod.ko").contains("dm-verity.ko").contains("loop.ko").contains("squashfs.ko");

        Path uki = dir.resolve("ipe.efi");
        ok(run("uki", "build", "--linux", kernel.toString(), "--initrd", dir.resolve("initrd.zst").toString(),
                "--cmdline", "console=ttyS0 panic=-1", "--os-release", "ID=cairn-test\n", "--key", dbKey.toString(),
                "--cert", dbCert.toString(), "--sign-kernel", "--output", uki.toString()));
        boot = SecureBootMachine.boot(BootRequest.builder(BootTarget.uki(uki)).ovmfVars(vars).tpm(false).expect(DONE).waitForPowerOff(true)
                .timeout(Duration.ofMinutes(5)).searchPath(System.getenv("PATH")).build());
        System.out.println("[IpeBootIT] " + release + ", cairn keys, cairn-signed UKI, verity root + IPE policy: " + boot.describe());
        assertThat(boot.booted()).as(boot.describe()).isTrue();
    }

    /**
     * The {@code /init} script: everything it checks prints {@code CAIRN-IPE-<CHECK>=…} on one line; the
     * commands' own error messages go to the console too.
     */
    static String initScript() {
        String ipe = "/sys/kernel/security/ipe";
        return String.join("\n",
                "#!/bin/sh",
                "# cairn IpeBootIT: dm-verity root-hash signatures and IPE under the 6.12 kernel, then power off.",
                "export PATH=/bin:/usr/sbin",
                "/bin/busybox --install -s /bin",
                "mount -t proc proc /proc",
                "mount -t sysfs sysfs /sys",
                "mount -t devtmpfs devtmpfs /dev",
                "mount -t securityfs securityfs /sys/kernel/security",
                "mkdir -p /tmp /run /mnt",
                "mount -t tmpfs tmpfs /tmp",
                "mount -t tmpfs tmpfs /run",
                "echo CAIRN-IPE-START",
                "while read -r m; do insmod \"$m\" || echo \"CAIRN-IPE-INSMOD-FAILED=$m\"; done < /lib/modules/load-order",
                "echo \"CAIRN-IPE-LSM=$(cat /sys/kernel/security/lsm)\"",
                "losetup /dev/loop0 /images/root.sqfs",
                "losetup /dev/loop1 /images/root.verity",
                "RH=$(cat /images/roothash)",
                "DM_DISABLE_UDEV=1 veritysetup open /dev/loop0 other /dev/loop1 \"$RH\" --root-hash-signature=/images/other.p7s",
                "echo \"CAIRN-IPE-VERITY-OTHER-SIG=rc$?\"",
                "DM_DISABLE_UDEV=1 veritysetup open /dev/loop0 root /dev/loop1 \"$RH\" --root-hash-signature=/images/db.p7s",
                "echo \"CAIRN-IPE-VERITY-DB-SIG=rc$?\"",
                "echo \"CAIRN-IPE-VERITY-STATUS=$(veritysetup status root | grep 'status:' | tr -s ' ')\"",
                "mount -t squashfs -o ro /dev/mapper/root /mnt",
                "echo \"CAIRN-IPE-MOUNT=rc$?\"",
                "cp /mnt/bin/busybox /tmp/busybox && chmod 755 /tmp/busybox",
                "out=$(/tmp/busybox echo ran 2>&1)",
                "echo \"CAIRN-IPE-TMPFS-BEFORE-POLICY=rc$? $out\"",
                "out=$(dd if=/images/other.p7b of=" + ipe + "/new_policy bs=1M 2>&1)",
                "echo \"CAIRN-IPE-OTHER-POLICY=rc$? $(echo $out | tr '\\n' ' ')\"",
                "out=$(dd if=/images/db.p7b of=" + ipe + "/new_policy bs=1M 2>&1)",
                "echo \"CAIRN-IPE-DB-POLICY=rc$? $(echo $out | tr '\\n' ' ')\"",
                "echo \"CAIRN-IPE-POLICIES=$(ls " + ipe + "/policies | tr '\\n' ' ')\"",
                "echo 1 > " + ipe + "/policies/" + POLICY_NAME + "/active",
                "echo \"CAIRN-IPE-ACTIVE=$(cat " + ipe + "/policies/" + POLICY_NAME + "/active)\"",
                "if [ \"$(cat " + ipe + "/policies/" + POLICY_NAME + "/policy)\" = \"$(cat /images/policy.pol)\" ]; then",
                "  echo CAIRN-IPE-POLICY-TEXT=same",
                "else",
                "  echo CAIRN-IPE-POLICY-TEXT=different",
                "fi",
                "echo 1 > " + ipe + "/success_audit",
                "out=$(/mnt/bin/busybox echo verity-program-ran 2>&1)",
                "echo \"CAIRN-IPE-VERITY-EXEC=rc$? $out\"",
                "echo 0 > " + ipe + "/success_audit",
                "out=$(/tmp/busybox echo ran 2>&1)",
                "echo \"CAIRN-IPE-TMPFS-EXEC=rc$? $out\"",
                "echo " + DONE,
                "poweroff -f",
                "");
    }

    static void ok(MainTest.Run r) {
        assertThat(r.code()).as(r.err()).isZero();
    }

    String value(String check) {
        return boot.valueAfter("CAIRN-IPE-" + check + "=").orElseThrow(() -> new AssertionError("no CAIRN-IPE-" + check + " line\n"
                + boot.describe()));
    }

    @Test
    void kernelRunsIpeWithCairnsKeysInThePlatformKeyring() {
        assertThat(boot.console()).contains("Kernel is locked down from EFI Secure Boot")
                .contains("integrity: Loaded X.509 cert 'cairn ipe test Signature Database key");
        assertThat(value("LSM").split(",")).contains("ipe");
        assertThat(boot.console()).doesNotContain("CAIRN-IPE-INSMOD-FAILED");
    }

    @Test
    void rootHashSignedByDbIsAcceptedAndOneByAnotherKeyIsRefused() {
        assertThat(value("VERITY-OTHER-SIG")).as(boot.describe()).isNotEqualTo("rc0");
        assertThat(boot.console()).contains("verity: Root hash verification failed (-ENOKEY)");
        assertThat(value("VERITY-DB-SIG")).as(boot.describe()).isEqualTo("rc0");
        assertThat(value("VERITY-STATUS")).isEqualTo("status: verified (with signature)");
        assertThat(value("MOUNT")).isEqualTo("rc0");
    }

    @Test
    void policySignedByAnotherKeyIsRefused() {
        assertThat(value("OTHER-POLICY")).as(boot.describe()).startsWith("rc1 ").contains("Required key not available");
        assertThat(value("POLICIES")).isEqualTo(POLICY_NAME);
    }

    @Test
    void cairnsSignedPolicyIsLoadedAndActivated() {
        assertThat(value("DB-POLICY")).as(boot.describe()).startsWith("rc0");
        assertThat(value("ACTIVE")).isEqualTo("1");
        assertThat(value("POLICY-TEXT")).as("the kernel's copy of the policy vs cairn's file:\n" + policyText).isEqualTo("same");
        assertThat(boot.console()).contains("policy_name=\"" + POLICY_NAME + "\" policy_version=1.0.0");
    }

    /** IPE's audit records (type 1420, printed by the kernel without auditd) for one executable at the exec check. */
    List<String> execAudits(String path) {
        return boot.lines().stream().filter(l -> l.contains("audit: type=1420") && l.contains("ipe_op=EXECUTE ipe_hook=BPRM_CHECK")
                && l.contains(" path=\"" + path + "\" ")).toList();
    }

    @Test
    void programOnTheVerityRootRunsByTheRootHashRule() {
        assertThat(value("VERITY-EXEC")).as(boot.describe()).isEqualTo("rc0 verity-program-ran");
        // 6.12 audits the rule as op=EXECUTE dmverity_roothash="sha256":<UPPER-CASE HEX> action=ALLOW
        assertThat(execAudits("/mnt/bin/busybox")).as(boot.describe()).singleElement().asString().contains("dev=\"dm-0\"")
                .contains("rule=\"op=EXECUTE dmverity_roothash=\"sha256\":" + rootHash.toUpperCase(java.util.Locale.ROOT) + " action=ALLOW\"");
    }

    @Test
    void sameProgramOnTmpfsRanBeforeThePolicyAndIsDeniedAfter() {
        assertThat(value("TMPFS-BEFORE-POLICY")).as(boot.describe()).isEqualTo("rc0 ran");
        assertThat(value("TMPFS-EXEC")).as(boot.describe()).startsWith("rc126 ").endsWith("/tmp/busybox: Permission denied");
        assertThat(execAudits("/tmp/busybox")).as(boot.describe()).singleElement().asString().contains("dev=\"tmpfs\"")
                .contains("rule=\"DEFAULT op=EXECUTE action=DENY\"");
    }
}
