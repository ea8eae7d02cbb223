package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.boot.BootRequest;
import dev.cairn.pipeline.boot.BootResult;
import dev.cairn.pipeline.boot.BootTarget;
import dev.cairn.pipeline.boot.SecureBootMachine;
import dev.cairn.testing.Systemd257;
import dev.cairn.testing.boot.BusyboxInitramfs;
import dev.cairn.testing.boot.DebianBootFiles;
import dev.cairn.testing.boot.SecureBootFirmware;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A multi-profile UKI and add-ons booted through systemd-boot 257 under OVMF Secure Boot with a swtpm TPM (Debian
 * 13's 257 stubs and sd-boot, Debian 12's kernel, the busybox initramfs; everything signed by cairn with the snakeoil
 * db key). One boot per profile (@0 = ID=main, @1 = ID=debug, chosen by loader.conf {@code default mp.efi@<ID>}), each
 * checking: PCR 11 = {@code cairn pcr predict 11 --profile N}, PCR 12 = {@code cairn pcr predict 12 --profile N
 * --via-systemd-boot --addon …}, PCR 7 = {@code cairn pcr predict 7} (one authority: sd-boot, UKI and add-on share the
 * key), the signed add-on's command line in /proc/cmdline (its initrd in PCR 12), the unsigned add-on's refused by the
 * firmware. A third boot
 * uses cairn's own key store with a second db certificate that signs a second add-on: two PCR 7 authority events.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProfilesBootIT {
    static final String CMDLINE = "console=ttyS0 panic=-1 cairn.boot-test=1";
    Path dir;
    Path esp;
    Path uki;
    Path signedAddon;
    Path keyPass;
    Path kernel;
    Path initrd;
    Path profile;

    @BeforeAll
    void build(@TempDir Path tmp) throws Exception {
        dir = tmp;
        SecureBootFirmware.requireInstalled();
        kernel = DebianBootFiles.kernel();
        Path tree = BusyboxInitramfs.writeTree(dir.resolve("initramfs"), Path.of("/lib/modules", DebianBootFiles.release(kernel)));
        initrd = dir.resolve("initrd.zst");
        ok("initrd", "create", tree.toString(), initrd.toString(), "--compress", "zstd");
        keyPass = Files.writeString(dir.resolve("snakeoil.pass"), SecureBootFirmware.SNAKEOIL_PASSPHRASE + "\n");
        List<String> sign = List.of("--secureboot-private-key", SecureBootFirmware.SNAKEOIL_KEY.toString(), "--secureboot-certificate",
                SecureBootFirmware.SNAKEOIL_CERT.toString(), "--key-pass-file", keyPass.toString());

        profile = dir.resolve("debug.profile.efi");
        ok("uki", "build", "--stub", Systemd257.addonStub().toString(), "--profile", "ID=debug\nTITLE=Debug", "--cmdline",
                CMDLINE + " cairn.profile=debug", "--output", profile.toString());
        esp = dir.resolve("esp");
        Files.createDirectories(esp.resolve("EFI/BOOT"));
        Files.createDirectories(esp.resolve("EFI/Linux/mp.efi.extra.d"));
        Files.createDirectories(esp.resolve("loader/addons"));
        uki = esp.resolve("EFI/Linux/mp.efi");
        List<String> b = new ArrayList<>(List.of("uki", "build", "--stub", Systemd257.linuxStub().toString(), "--linux", kernel.toString(),
                "--initrd", initrd.toString(), "--cmdline", CMDLINE, "--os-release", "ID=cairn-test\nNAME=\"cairn profiles\"\n",
                "--join-profile", profile.toString(), "--output", uki.toString()));
        b.addAll(sign);
        ok(b.toArray(String[]::new));
        signedAddon = esp.resolve("loader/addons/a-signed.addon.efi");
        // the signed add-on also carries an initrd (a small uncompressed cpio): PCR 12 gets its tagged event
        Path extraTree = Files.createDirectories(dir.resolve("addon-initrd/etc"));
        Files.writeString(extraTree.resolve("cairn-addon"), "from the add-on\n");
        Path extraCpio = dir.resolve("addon-initrd.cpio");
        ok("initrd", "create", dir.resolve("addon-initrd").toString(), extraCpio.toString(), "--compress", "none");
        List<String> a = new ArrayList<>(List.of("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "cairn.addon=1",
                "--initrd", extraCpio.toString(), "--output", signedAddon.toString()));
        a.addAll(sign);
        ok(a.toArray(String[]::new));
        ok("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "cairn.unsigned=1", "--output",
                esp.resolve("EFI/Linux/mp.efi.extra.d/zz-unsigned.addon.efi").toString());
        ok("sign", "pe", "--key", SecureBootFirmware.SNAKEOIL_KEY.toString(), "--cert", SecureBootFirmware.SNAKEOIL_CERT.toString(),
                "--key-pass-file", keyPass.toString(), "--output", esp.resolve("EFI/BOOT/BOOTX64.EFI").toString(),
                Systemd257.systemdBoot().toString());
    }

    static MainTest.Run ok(String... args) {
        MainTest.Run r = run(args);
        assertThat(r.code()).as(String.join(" ", args) + "\n" + r.err()).isZero();
        return r;
    }

    static String value(MainTest.Run r, String prefix) {
        return r.out().lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow().substring(prefix.length())
                .toUpperCase(Locale.ROOT);
    }

    BootResult boot(String id) throws Exception {
        return boot(esp, SecureBootFirmware.SNAKEOIL_VARS, id);
    }

    static BootResult boot(Path esp, Path vars, String id) throws Exception {
        Files.writeString(esp.resolve("loader/loader.conf"), "timeout 0\ndefault mp.efi@" + id + "\n");
        BootRequest req = BootRequest.builder(BootTarget.espDirectory(esp)).ovmfVars(vars)
                .expect(BusyboxInitramfs.MARKER).waitForPowerOff(true).timeout(Duration.ofMinutes(4)).searchPath(System.getenv("PATH"))
                .build();
        BootResult r = SecureBootMachine.boot(req);
        System.out.println("[ProfilesBootIT] @" + id + ": " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        return r;
    }

    void check(BootResult r, int profile) {
        String pcr11 = value(ok("pcr", "predict", "11", "--uki", uki.toString(), "--profile", String.valueOf(profile), "--phase", ":",
                "--bank", "sha256"), "11:sha256=");
        String pcr12 = value(ok("pcr", "predict", "12", "--uki", uki.toString(), "--profile", String.valueOf(profile), "--via-systemd-boot",
                "--addon", signedAddon.toString(), "--bank", "sha256"), "12:sha256=");
        String pcr7 = value(ok("pcr", "predict", "7", "--ovmf-vars", SecureBootFirmware.SNAKEOIL_VARS.toString(), "--uki", uki.toString(),
                "--addon", signedAddon.toString(), "--bank", "sha256"), "7:sha256=");
        assertThat(r.valueAfter(BusyboxInitramfs.SECURE_BOOT_PREFIX)).as(r.describe()).contains("01");
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).as("PCR 11 of @%d\n%s", profile, r.describe()).contains(pcr11);
        assertThat(r.valueAfter(BusyboxInitramfs.PCR12_PREFIX)).as("PCR 12 of @%d\n%s", profile, r.describe()).contains(pcr12);
        assertThat(r.valueAfter(BusyboxInitramfs.PCR7_PREFIX)).as("PCR 7\n%s", r.describe()).contains(pcr7);
        String cmdline = r.valueAfter(BusyboxInitramfs.CMDLINE_PREFIX).orElseThrow();
        assertThat(cmdline).as("the signed add-on's command line is appended").contains(CMDLINE).endsWith("cairn.addon=1")
                .doesNotContain("cairn.unsigned=1");
        assertThat(r.console()).as("the firmware refuses the unsigned add-on").contains("zz-unsigned.addon.efi").containsIgnoringCase("Access denied");
    }

    @Test
    void profileOneThroughSystemdBoot() throws Exception {
        BootResult r = boot("debug");
        check(r, 1);
        assertThat(r.valueAfter(BusyboxInitramfs.CMDLINE_PREFIX).orElseThrow()).contains("cairn.profile=debug");
    }

    @Test
    void profileZeroThroughSystemdBoot() throws Exception {
        BootResult r = boot("main");
        check(r, 0);
        assertThat(r.valueAfter(BusyboxInitramfs.CMDLINE_PREFIX).orElseThrow()).doesNotContain("cairn.profile=debug");
    }

    /**
     * cairn's own key store with a second db certificate appended: sd-boot, the UKI and one add-on signed by cairn's
     * db key, a second add-on by the second certificate. PCR 7 gets a second authority event, predicted by
     * {@code cairn pcr predict 7 --addon … --addon …}; PCR 12 covers both add-ons' command lines joined.
     */
    @Test
    void anAddonSignedByASecondDbCertificateAddsTheSecondAuthority() throws Exception {
        Path keys = dir.resolve("sb-keys");
        ok("keys", "secureboot", "create", "--dir", keys.toString(), "--key-size", "2048", "--subject", "cairn profiles test");
        dev.cairn.testing.TestPki.KeyAndCert second = dev.cairn.testing.TestPki.get().secureBoot();
        Path key2 = second.writeKeyPem(dir.resolve("second.key"));
        Path cert2 = second.writeCertPem(dir.resolve("second.crt"));
        Path esl2 = dir.resolve("second.esl");
        dev.cairn.testing.ToolOracle.require("cert-to-efi-sig-list", "efitools")
                .runOk("-g", "11111111-2222-3333-4444-555555555555", cert2.toString(), esl2.toString());
        Path db = keys.resolve("db.esl");
        byte[] both = java.nio.ByteBuffer.allocate(Math.toIntExact(Files.size(db) + Files.size(esl2))).put(Files.readAllBytes(db))
                .put(Files.readAllBytes(esl2)).array();
        Files.write(db, both);
        Path vars = dir.resolve("two-db-vars.fd");
        ok("keys", "secureboot", "ovmf-vars", "--dir", keys.toString(), "--output", vars.toString(), "--template",
                dev.cairn.testing.ToolOracle.requireFile(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), "ovmf").toString());
        List<String> sign1 = List.of("--key", keys.resolve("db.key").toString(), "--cert", keys.resolve("db.crt").toString());
        List<String> sign2 = List.of("--key", key2.toString(), "--cert", cert2.toString());

        Path esp2 = dir.resolve("esp2");
        Files.createDirectories(esp2.resolve("EFI/BOOT"));
        Files.createDirectories(esp2.resolve("EFI/Linux"));
        Files.createDirectories(esp2.resolve("loader/addons"));
        Path uki2 = esp2.resolve("EFI/Linux/mp.efi");
        List<String> b = new ArrayList<>(List.of("uki", "build", "--stub", Systemd257.linuxStub().toString(), "--linux", kernel.toString(),
                "--initrd", initrd.toString(), "--cmdline", CMDLINE, "--os-release", "ID=cairn-test\nNAME=\"cairn profiles\"\n",
                "--join-profile", profile.toString(), "--output", uki2.toString()));
        b.addAll(sign1);
        ok(b.toArray(String[]::new));
        Path first = esp2.resolve("loader/addons/a.addon.efi");
        Path secondAddon = esp2.resolve("loader/addons/b.addon.efi");
        List<String> a1 = new ArrayList<>(List.of("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "cairn.addon=1",
                "--output", first.toString()));
        a1.addAll(sign1);
        ok(a1.toArray(String[]::new));
        List<String> a2 = new ArrayList<>(List.of("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "cairn.addon2=1",
                "--output", secondAddon.toString()));
        a2.addAll(sign2);
        ok(a2.toArray(String[]::new));
        List<String> sd = new ArrayList<>(List.of("sign", "pe", "--output", esp2.resolve("EFI/BOOT/BOOTX64.EFI").toString()));
        sd.addAll(sign1);
        sd.add(Systemd257.systemdBoot().toString());
        ok(sd.toArray(String[]::new));

        String pcr7 = value(ok("pcr", "predict", "7", "--ovmf-vars", vars.toString(), "--uki", uki2.toString(), "--addon", first.toString(),
                "--addon", secondAddon.toString(), "--bank", "sha256"), "7:sha256=");
        String pcr7OneAuthority = value(ok("pcr", "predict", "7", "--ovmf-vars", vars.toString(), "--uki", uki2.toString(), "--addon",
                first.toString(), "--bank", "sha256"), "7:sha256=");
        assertThat(pcr7).isNotEqualTo(pcr7OneAuthority);
        String pcr12 = value(ok("pcr", "predict", "12", "--uki", uki2.toString(), "--profile", "1", "--via-systemd-boot", "--addon",
                first.toString(), "--addon", secondAddon.toString(), "--bank", "sha256"), "12:sha256=");
        String pcr11 = value(ok("pcr", "predict", "11", "--uki", uki2.toString(), "--profile", "1", "--phase", ":", "--bank", "sha256"),
                "11:sha256=");
        BootResult r = boot(esp2, vars, "debug");
        assertThat(r.valueAfter(BusyboxInitramfs.PCR7_PREFIX)).as("PCR 7 with two authorities\n%s", r.describe()).contains(pcr7);
        assertThat(r.valueAfter(BusyboxInitramfs.PCR12_PREFIX)).as("PCR 12\n%s", r.describe()).contains(pcr12);
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).as("PCR 11\n%s", r.describe()).contains(pcr11);
        assertThat(r.valueAfter(BusyboxInitramfs.CMDLINE_PREFIX).orElseThrow()).endsWith("cairn.addon=1 cairn.addon2=1");
    }
}
