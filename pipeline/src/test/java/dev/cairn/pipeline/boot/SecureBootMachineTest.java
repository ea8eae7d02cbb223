package dev.cairn.pipeline.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.pipeline.PipelineException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The boot runner without a real QEMU: console classification, the command line, the tool and input checks, and whole
 * runs against a stand-in {@code qemu-system-x86_64} (a shell script) that prints what a test needs: when a run ends,
 * what it reports, and that every process and the temporary directory are gone afterwards.
 */
class SecureBootMachineTest {
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

    @TempDir
    Path dir;
    Path bin;
    Path code;
    Path vars;
    Path uki;

    @BeforeEach
    void inputs() throws IOException {
        bin = Files.createDirectory(dir.resolve("bin"));
        code = Files.write(dir.resolve("OVMF_CODE.fd"), new byte[64]);
        vars = Files.write(dir.resolve("OVMF_VARS.fd"), new byte[64]);
        uki = Files.write(dir.resolve("x.efi"), "MZ".getBytes(StandardCharsets.US_ASCII));
    }

    /** A stand-in qemu-system-x86_64 running {@code script} (POSIX sh). */
    void fakeQemu(String script) throws IOException {
        Path q = Files.writeString(bin.resolve(SecureBootMachine.QEMU), "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(q, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    BootRequest.Builder request() {
        return BootRequest.builder(BootTarget.uki(uki)).ovmfCode(code).ovmfVars(vars).tpm(false).searchPath(bin.toString())
                .timeout(Duration.ofSeconds(60));
    }

    static Path workDir(BootResult r) {
        String varsArg = r.command().stream().filter(a -> a.startsWith("if=pflash,format=raw,unit=1,file=")).findFirst().orElseThrow();
        return Path.of(varsArg.substring(varsArg.indexOf("file=") + 5)).getParent();
    }

    static void assertCleanedUp(BootResult r) {
        Path work = workDir(r);
        assertThat(work).as("work directory deleted").doesNotExist();
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse("")).filter(c -> c.contains(work.toString())).toList())
                .as("nothing left running").isEmpty();
    }

    @Test
    void classifiesConsoles() {
        assertThat(SecureBootMachine.outcome(REFUSED_CONSOLE, false, false, false, -1)).isEqualTo(BootResult.Outcome.REFUSED);
        // Only the built-in shell refused (e.g. an empty ESP): nothing of ours was refused.
        String noImage = REFUSED_CONSOLE.replace("): Access Denied", "): Not Found");
        assertThat(SecureBootMachine.outcome(noImage, false, false, false, -1)).isEqualTo(BootResult.Outcome.NO_BOOTABLE_DEVICE);
        assertThat(SecureBootMachine.outcome("CAIRN-BOOT-OK\n", true, false, false, -1)).isEqualTo(BootResult.Outcome.BOOTED);
        assertThat(SecureBootMachine.outcome("[ 1.0] Kernel panic - not syncing: VFS\n", false, true, false, 0))
                .isEqualTo(BootResult.Outcome.KERNEL_PANIC);
        assertThat(SecureBootMachine.outcome("", false, false, true, -1)).isEqualTo(BootResult.Outcome.TIMED_OUT);
        assertThat(SecureBootMachine.outcome("x\n", false, false, false, 0)).isEqualTo(BootResult.Outcome.POWERED_OFF);
        assertThat(SecureBootMachine.outcome("", false, false, false, 1)).isEqualTo(BootResult.Outcome.EXITED);
    }

    @Test
    void resultAccessorsAndFailures() {
        BootResult r = new BootResult(BootResult.Outcome.BOOTED, "CAIRN-BOOT-OK", "x\nPCR11-SHA256=AB\nCAIRN-CMDLINE=console=ttyS0 a=b\n",
                List.of("qemu"), "tcg", Duration.ofSeconds(3), Optional.of(Duration.ofSeconds(2)), -1, "");
        assertThat(r.valueAfter("PCR11-SHA256=")).contains("AB");
        assertThat(r.valueAfter("CAIRN-CMDLINE=")).contains("console=ttyS0 a=b");
        assertThat(r.valueAfter("NOPE=")).isEmpty();
        assertThat(r.describe()).contains("BOOTED after 3000 ms (tcg), expected text after 2000 ms");
        assertThat(r.succeeded()).isTrue();
        assertThat(r.failure()).isEmpty();
        BootResult refused = new BootResult(BootResult.Outcome.REFUSED, "X", REFUSED_CONSOLE, List.of("qemu"), "tcg", Duration.ZERO,
                Optional.empty(), -1, "");
        assertThat(refused.firmwareBootLines()).hasSize(8);
        assertThat(refused.failure()).contains("the firmware refused the image under Secure Boot: BdsDxe: failed to load Boot0002 "
                + "\"UEFI QEMU HARDDISK QM00001 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0): Access Denied");
        BootResult off = new BootResult(BootResult.Outcome.POWERED_OFF, null, "", List.of("qemu"), "kvm", Duration.ZERO, Optional.empty(),
                0, "");
        assertThat(off.succeeded()).isTrue();
        BootResult offEarly = new BootResult(BootResult.Outcome.POWERED_OFF, "DONE", "", List.of("qemu"), "kvm", Duration.ZERO,
                Optional.empty(), 0, "");
        assertThat(offEarly.failure()).contains("the guest powered off before 'DONE' appeared");
        BootResult slow = new BootResult(BootResult.Outcome.TIMED_OUT, "DONE", "", List.of("qemu"), "tcg", Duration.ofMillis(5200),
                Optional.empty(), -1, "");
        assertThat(slow.failure()).contains("timed out after 5 s before 'DONE' appeared");
    }

    @Test
    void aDiskImageIsOneVirtioDiskWithSnapshotOn() throws IOException {
        Path disk = Files.write(Files.createDirectory(dir.resolve("a,b")).resolve("disk.raw"), new byte[1024]);
        Path extra = Files.write(dir.resolve("extra.img"), new byte[512]);
        BootRequest r = BootRequest.builder(BootTarget.diskImage(disk)).ovmfCode(code).memoryMiB(2048).disk(extra).build();
        Path work = dir.resolve("work");
        assertThat(SecureBootMachine.command(Path.of("/usr/bin/qemu-system-x86_64"), "tcg", r, work.resolve("OVMF_VARS.fd"), null,
                work.resolve("tpm/swtpm.sock"))).containsExactly("/usr/bin/qemu-system-x86_64",
                "-machine", "q35,smm=on", "-accel", "tcg", "-m", "2048", "-smp", "1",
                "-global", "driver=cfi.pflash01,property=secure,value=on",
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
                "-drive", "if=pflash,format=raw,unit=1,file=" + work.resolve("OVMF_VARS.fd"),
                "-drive", "if=virtio,format=raw,file=" + dir.resolve("a,,b/disk.raw") + ",snapshot=on",
                "-nographic", "-serial", "stdio", "-monitor", "none", "-nic", "none", "-no-reboot",
                "-drive", "file=" + extra + ",format=raw,if=virtio,snapshot=on",
                "-chardev", "socket,id=chrtpm,path=" + work.resolve("tpm/swtpm.sock"),
                "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0");
    }

    @Test
    void aUkiIsServedOnAGeneratedEspAndItsDataDisksAreReadOnly() throws IOException {
        Path rootfs = Files.write(dir.resolve("rootfs.img"), new byte[512]);
        BootRequest r = BootRequest.builder(BootTarget.uki(uki, rootfs)).build();
        Path work = dir.resolve("work");
        List<String> cmd = SecureBootMachine.command(Path.of("qemu-system-x86_64"), "kvm", r, work.resolve("OVMF_VARS.fd"),
                work.resolve("esp"), null);
        assertThat(String.join(" ", cmd)).contains(" -accel kvm -m 1024 ",
                " -drive file=fat:rw:" + work.resolve("esp") + ",format=raw -nographic ",
                " -no-reboot -drive file=" + rootfs + ",format=raw,if=virtio,readonly=on")
                .contains("file=" + BootRequest.DEFAULT_OVMF_CODE).doesNotContain("tpm");
    }

    @Test
    void missingToolsNameTheirDebianPackage() throws IOException {
        assertThatThrownBy(() -> SecureBootMachine.check(request().build())).isInstanceOfSatisfying(PipelineException.class,
                e -> assertThat(e.kind()).isEqualTo(PipelineException.Kind.BAD_INPUT))
                .hasMessage("qemu-system-x86_64 not found (searched " + bin + "): install Debian package qemu-system-x86");
        fakeQemu("exit 0");
        assertThat(SecureBootMachine.check(request().build()).swtpm()).isNull();
        assertThatThrownBy(() -> SecureBootMachine.check(request().tpm(true).build())).isInstanceOf(PipelineException.class)
                .hasMessage("swtpm not found (searched " + bin + "): install Debian package swtpm (or boot without a TPM)");
        assertThatThrownBy(() -> SecureBootMachine.check(request().ovmfCode(dir.resolve("nope.fd")).build()))
                .isInstanceOf(NoSuchFileException.class).hasMessage(dir.resolve("nope.fd").toString());
    }

    @Test
    void withoutAVariableStoreNothingStarts() throws IOException {
        fakeQemu("exit 0");
        assertThatThrownBy(() -> SecureBootMachine.check(request().ovmfVars(null).build())).isInstanceOf(PipelineException.class)
                .hasMessage("no OVMF variable store: " + uki + " is not in an image set with dev-keys/secureboot/OVMF_VARS.fd,"
                        + " and none was given (--ovmf-vars FILE)");
        BootTarget withDevVars = BootTarget.uki(uki).withDevVars(vars);
        assertThat(SecureBootMachine.check(BootRequest.builder(withDevVars).ovmfCode(code).tpm(false).searchPath(bin.toString()).build())
                .vars()).isEqualTo(vars);
    }

    @Test
    void theConsoleKeepsCleanUtf8LinesAndFindsTheExpectedTextInAPrompt() throws InterruptedException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        SecureBootMachine.Console c = new SecureBootMachine.Console(new ByteArrayInputStream(new byte[0]), sink, "login:", System.nanoTime());
        byte[] all = "\u001b[2J\u001b[01;01HBdsDxe: starting\r\nh\u00e9llo\r\nDebian login: ".getBytes(StandardCharsets.UTF_8);
        int split = "\u001b[2J\u001b[01;01HBdsDxe: starting\r\nh".getBytes(StandardCharsets.UTF_8).length + 1; // inside the é
        c.accept(all, 0, split);
        assertThat(c.expectedSeen()).isFalse();
        c.accept(all, split, all.length - split);
        assertThat(c.expectedSeen()).as("a prompt has no line end").isTrue();
        assertThat(c.awaitDecision(System.nanoTime())).isTrue();
        assertThat(c.text()).isEqualTo("BdsDxe: starting\nh\u00e9llo\n");
        assertThat(c.untilExpected()).isPresent();
    }

    @Test
    void aPromptEndsTheRunAtOnceAndEveryProcessGoes() throws Exception {
        fakeQemu("echo \"tmp=$TMPDIR\"\nsleep 300 &\necho \"child=$!\"\nprintf 'Debian GNU/Linux 12 cairn ttyS0\\n\\ncairn login: '\nexec sleep 300");
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        BootResult r = SecureBootMachine.boot(request().expect("login:").console(sink).build());
        assertThat(r.outcome()).as(r.describe()).isEqualTo(BootResult.Outcome.BOOTED);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.elapsed()).isLessThan(Duration.ofSeconds(30));
        assertThat(r.qemuExit()).as("stopped, not exited").isEqualTo(-1);
        assertThat(r.valueAfter("tmp=")).as("QEMU's temporary files go to the work directory").contains(workDir(r).toString());
        assertThat(sink.toString(StandardCharsets.UTF_8)).endsWith("cairn login: ");
        long child = Long.parseLong(r.valueAfter("child=").orElseThrow());
        assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive)).as("QEMU's descendants are stopped too").isNotEqualTo(Optional.of(true));
        assertCleanedUp(r);
    }

    @Test
    void theTimeoutStopsQemu() throws Exception {
        fakeQemu("echo firmware\nexec sleep 300");
        BootResult r = SecureBootMachine.boot(request().expect("NEVER").timeout(Duration.ofSeconds(1)).build());
        assertThat(r.outcome()).as(r.describe()).isEqualTo(BootResult.Outcome.TIMED_OUT);
        assertThat(r.elapsed()).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(10));
        assertThat(r.failure()).contains("timed out after 1 s before 'NEVER' appeared");
        assertCleanedUp(r);
    }

    @Test
    void aGuestThatPowersOffSucceedsWithoutExpectedTextAndTheVariableStoreIsACopy() throws Exception {
        byte[] before = Files.readAllBytes(vars);
        fakeQemu("for a; do case $a in\n"
                + "  *unit=1,file=*) echo written >> \"${a#*unit=1,file=}\" ;;\n"
                + "  file=fat:rw:*) esp=${a#file=fat:rw:}; esp=${esp%,format=raw}; [ -f \"$esp/EFI/BOOT/BOOTX64.EFI\" ] && echo esp-ok ;;\n"
                + "esac; done\necho 'reboot: Power down'\nexit 0");
        BootResult r = SecureBootMachine.boot(request().build());
        assertThat(r.outcome()).as(r.describe()).isEqualTo(BootResult.Outcome.POWERED_OFF);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.qemuExit()).isZero();
        assertThat(r.lines()).containsExactly("esp-ok", "reboot: Power down");
        assertThat(Files.readAllBytes(vars)).isEqualTo(before);
        assertCleanedUp(r);
        BootResult early = SecureBootMachine.boot(request().expect("CAIRN-BOOT-DONE").build());
        assertThat(early.succeeded()).isFalse();
        assertThat(early.failure()).contains("the guest powered off before 'CAIRN-BOOT-DONE' appeared");
    }

    @Test
    void waitingForPowerOffKeepsWhatComesAfterTheExpectedText() throws Exception {
        fakeQemu("echo CAIRN-BOOT-OK\nsleep 0.3\necho PCR11-SHA256=AB\necho CAIRN-BOOT-DONE\nexit 0");
        BootResult r = SecureBootMachine.boot(request().expect("CAIRN-BOOT-OK").waitForPowerOff(true).build());
        assertThat(r.outcome()).as(r.describe()).isEqualTo(BootResult.Outcome.BOOTED);
        assertThat(r.valueAfter("PCR11-SHA256=")).contains("AB");
        assertThat(r.qemuExit()).isZero();
    }

    @Test
    void aKernelPanicOrARefusalEndsTheRun() throws Exception {
        fakeQemu("echo '[    1.5] Kernel panic - not syncing: VFS: Unable to mount root fs'\nexec sleep 300");
        BootResult panic = SecureBootMachine.boot(request().expect("CAIRN-BOOT-DONE").build());
        assertThat(panic.outcome()).as(panic.describe()).isEqualTo(BootResult.Outcome.KERNEL_PANIC);
        assertThat(panic.failure()).contains("kernel panic before 'CAIRN-BOOT-DONE' appeared: "
                + "[    1.5] Kernel panic - not syncing: VFS: Unable to mount root fs");
        assertThat(panic.elapsed()).isLessThan(Duration.ofSeconds(30));
        assertCleanedUp(panic);
        fakeQemu("cat <<'EOF'\n" + REFUSED_CONSOLE + "EOF\nexec sleep 300");
        BootResult refused = SecureBootMachine.boot(request().build());
        assertThat(refused.outcome()).as(refused.describe()).isEqualTo(BootResult.Outcome.REFUSED);
        assertCleanedUp(refused);
    }

    @Test
    void qemuThatCannotStartIsBadInputWithItsMessage() throws IOException {
        fakeQemu("echo 'qemu-system-x86_64: -drive file=x: Could not open x' >&2\nexit 1");
        assertThatThrownBy(() -> SecureBootMachine.boot(request().build())).isInstanceOfSatisfying(PipelineException.class,
                e -> assertThat(e.kind()).isEqualTo(PipelineException.Kind.BAD_INPUT))
                .hasMessage("qemu-system-x86_64 did not start (status 1): qemu-system-x86_64: -drive file=x: Could not open x");
    }
}
