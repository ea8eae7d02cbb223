package dev.cairn.testing.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The boot harness's pure parts: console classification, section layout, the /init script. */
class BootFixturesTest {
    @TempDir
    Path dir;

    /** Verbatim from OVMF 2022.11 (Debian 12) refusing an unsigned UKI with the snakeoil variable store. */
    static final String REFUSED_CONSOLE = String.join("\n",
            "BdsDxe: failed to load Boot0001 \"UEFI QEMU DVD-ROM QM00005 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x2,0xFFFF,0x0): Not Found",
            "BdsDxe: loading Boot0002 \"UEFI QEMU HARDDISK QM00001 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)",
            "BdsDxe: failed to load Boot0002 \"UEFI QEMU HARDDISK QM00001 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0): Access Denied",
            "BdsDxe: loading Boot0003 \"EFI Internal Shell\" from Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/FvFile(7C04A583-9E3E-4F1C-AD65-E05268D0B4D1)",
            "BdsDxe: starting Boot0003 \"EFI Internal Shell\" from Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/FvFile(7C04A583-9E3E-4F1C-AD65-E05268D0B4D1)",
            "BdsDxe: failed to start Boot0003 \"EFI Internal Shell\" from Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/FvFile(7C04A583-9E3E-4F1C-AD65-E05268D0B4D1): Security Violation",
            "BdsDxe: No bootable option or device was found.",
            "BdsDxe: Press any key to enter the Boot Manager Menu.", "");

    @Test
    void classifiesConsoles() {
        assertThat(SecureBootVm.outcome(REFUSED_CONSOLE, false, false, false)).isEqualTo(BootResult.Outcome.REFUSED);
        // Only the built-in shell refused (e.g. an empty ESP): nothing of ours was refused.
        String noImage = REFUSED_CONSOLE.replace("): Access Denied", "): Not Found");
        assertThat(SecureBootVm.outcome(noImage, false, false, false)).isEqualTo(BootResult.Outcome.NO_BOOTABLE_DEVICE);
        assertThat(SecureBootVm.outcome("CAIRN-BOOT-OK\n", true, false, false)).isEqualTo(BootResult.Outcome.BOOTED);
        assertThat(SecureBootVm.outcome("[ 1.0] Kernel panic - not syncing: VFS\n", false, true, false))
                .isEqualTo(BootResult.Outcome.KERNEL_PANIC);
        assertThat(SecureBootVm.outcome("", false, false, true)).isEqualTo(BootResult.Outcome.TIMED_OUT);
        assertThat(SecureBootVm.outcome("", false, false, false)).isEqualTo(BootResult.Outcome.EXITED);
    }

    @Test
    void kernelSeriesAreKeptApart() {
        List<Path> boot = List.of(Path.of("/boot/vmlinuz-6.1.0-9-amd64"), Path.of("/boot/vmlinuz-6.1.0-10-amd64"),
                Path.of("/boot/vmlinuz-6.12.117+deb12-amd64"), Path.of("/boot/vmlinuz-6.12.99+deb12-amd64"),
                Path.of("/boot/config-6.1.0-56-amd64"), Path.of("/boot/vmlinuz-6.10.1-amd64"));
        assertThat(DebianBootFiles.newestOfSeries(boot, "6.1")).contains(Path.of("/boot/vmlinuz-6.1.0-10-amd64"));
        assertThat(DebianBootFiles.newestOfSeries(boot, "6.12")).contains(Path.of("/boot/vmlinuz-6.12.117+deb12-amd64"));
        assertThat(DebianBootFiles.newestOfSeries(boot, "6.13")).isEmpty();
    }

    @Test
    void resultAccessors() {
        BootResult r = new BootResult(BootResult.Outcome.BOOTED, "x\nPCR11-SHA256=AB\nCAIRN-CMDLINE=console=ttyS0 a=b\n", List.of("qemu"),
                "tcg", Duration.ofSeconds(3), Optional.of(Duration.ofSeconds(2)), "");
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).contains("AB");
        assertThat(r.valueAfter(BusyboxInitramfs.CMDLINE_PREFIX)).contains("console=ttyS0 a=b");
        assertThat(r.valueAfter("NOPE=")).isEmpty();
        assertThat(r.describe()).contains("BOOTED after 3000 ms (tcg)");
        BootResult refused = new BootResult(BootResult.Outcome.REFUSED, REFUSED_CONSOLE, List.of("qemu"), "tcg", Duration.ZERO,
                Optional.empty(), "");
        assertThat(refused.firmwareBootLines()).hasSize(8);
    }

    @Test
    void sectionsAreLaidOutAlignedAndDisjoint() throws IOException {
        Path a = Files.write(dir.resolve("a"), new byte[0x1001]);
        Path b = Files.write(dir.resolve("b"), new byte[5]);
        List<ObjcopyUki.Placement> p = ObjcopyUki.layout(0x19134, List.of(new ObjcopyUki.Section(".osrel", a), new ObjcopyUki.Section(".linux", b)));
        assertThat(p).containsExactly(new ObjcopyUki.Placement(".osrel", 0x1a000, 0x1001), new ObjcopyUki.Placement(".linux", 0x1c000, 5));
    }

    @Test
    void debianStubEndsWhereTheReferenceSays() {
        Path stub = ToolOracle.requireFile(ObjcopyUki.DEBIAN_STUB, "systemd-boot-efi");
        // .sdmagic at 0x19100, VirtualSize 0x34 (reference §2.7).
        assertThat(ObjcopyUki.firstFreeAddress(stub)).isEqualTo(0x19134L);
    }

    @Test
    void initScriptIsValidShellAndPrintsTheMarkers() throws IOException {
        String init = BusyboxInitramfs.initScript();
        assertThat(init).startsWith("#!/bin/sh\n").contains("echo " + BusyboxInitramfs.MARKER).contains("poweroff -f")
                .contains("/sys/class/tpm/tpm0/pcr-sha256/11");
        Path f = Files.writeString(dir.resolve("init"), init);
        ToolOracle.require("sh", "dash").runOk("-n", f.toString());
    }

    @Test
    void recognisesDynamicExecutables() {
        Path sh = ToolOracle.requireFile(Path.of("/bin/ls"), "coreutils");
        assertThat(BusyboxInitramfs.interpreter(sh)).hasValueSatisfying(i -> assertThat(i).contains("ld-linux"));
    }
}
