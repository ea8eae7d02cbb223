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
 * key), the signed add-on's command line in /proc/cmdline, the unsigned add-on's refused by the firmware.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProfilesBootIT {
    static final String CMDLINE = "console=ttyS0 panic=-1 cairn.boot-test=1";
    Path dir;
    Path esp;
    Path uki;
    Path signedAddon;
    Path keyPass;

    @BeforeAll
    void build(@TempDir Path tmp) throws Exception {
        dir = tmp;
        SecureBootFirmware.requireInstalled();
        Path kernel = DebianBootFiles.kernel();
        Path tree = BusyboxInitramfs.writeTree(dir.resolve("initramfs"), Path.of("/lib/modules", DebianBootFiles.release(kernel)));
        Path initrd = dir.resolve("initrd.zst");
        ok("initrd", "create", tree.toString(), initrd.toString(), "--compress", "zstd");
        keyPass = Files.writeString(dir.resolve("snakeoil.pass"), SecureBootFirmware.SNAKEOIL_PASSPHRASE + "\n");
        List<String> sign = List.of("--secureboot-private-key", SecureBootFirmware.SNAKEOIL_KEY.toString(), "--secureboot-certificate",
                SecureBootFirmware.SNAKEOIL_CERT.toString(), "--key-pass-file", keyPass.toString());

        Path profile = dir.resolve("debug.profile.efi");
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
        List<String> a = new ArrayList<>(List.of("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "cairn.addon=1",
                "--output", signedAddon.toString()));
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
        Files.writeString(esp.resolve("loader/loader.conf"), "timeout 0\ndefault mp.efi@" + id + "\n");
        BootRequest req = BootRequest.builder(BootTarget.espDirectory(esp)).ovmfVars(SecureBootFirmware.SNAKEOIL_VARS)
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
}
