package dev.cairn.pipeline.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.BusyboxInitramfs;
import dev.cairn.testing.boot.ObjcopyUki;
import dev.cairn.testing.boot.Sbsign;
import dev.cairn.testing.boot.SecureBootFirmware;
import dev.cairn.uki.initrd.InitrdCompression;
import dev.cairn.uki.initrd.InitrdOptions;
import dev.cairn.uki.initrd.InitrdTree;
import dev.cairn.uki.initrd.InitrdWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves cairn's boot runner ({@link SecureBootMachine}; it began as the Secure Boot test harness, before cairn's UKI
 * builder existed) against UKIs that cairn did not make: a UKI made the traditional way (objcopy on Debian 12's
 * systemd 252 stub, signed with sbsign) around a busybox initramfs written by cairn's {@link InitrdWriter} boots in
 * OVMF with the snakeoil db, and OVMF refuses the same UKI unsigned or signed by a key outside db. A timeout stops QEMU
 * and swtpm and leaves nothing behind.
 *
 * <p>To test cairn's own UKI builder and signer, replace {@link #assembleUki} and
 * {@link #sign}: everything else (initramfs, kernel, keys, VM, assertions) stays (the cli module's UkiBootIT does).
 *
 * <p>The embedded kernel is signed too: its Debian signature is stripped (sbsign would <i>add</i> a
 * second one) and replaced by a snakeoil signature, as a UKI for any stub that has the firmware
 * verify {@code .linux} would need. Measured here, the Debian 12 stub (252) does <b>not</b>: it
 * starts an unsigned embedded kernel under Secure Boot
 * ({@link #debianStubDoesNotVerifyTheEmbeddedKernel}), contrary to the reference notes §2.7.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureBootMachineIT {
    static final String CMDLINE = "console=ttyS0 cairn.boot-test=1 panic=-1";
    static final String OS_RELEASE = "ID=cairn-test\nNAME=\"cairn boot test\"\nVERSION_ID=1\n";

    Path dir;

    Sbsign.Key snakeoil;
    Map<String, byte[]> sections;
    Path unsignedUki;
    Path stub;
    Path unsignedKernel;
    Path osrel;
    Path cmdline;
    Path initrd;

    @BeforeAll
    void buildUkis(@TempDir Path tmp) throws IOException {
        dir = tmp;
        SecureBootFirmware.requireInstalled();
        stub = ToolOracle.requireFile(ObjcopyUki.DEBIAN_STUB, "systemd-boot-efi");
        Path vmlinuz = newestKernel();
        ToolOracle.require("sbsign", "sbsigntool");

        initrd = dir.resolve("initrd.zst");
        String release = vmlinuz.getFileName().toString().replaceFirst("^vmlinuz-", "");
        Path tree = BusyboxInitramfs.writeTree(dir.resolve("initramfs"), Path.of("/lib/modules", release));
        try (OutputStream out = Files.newOutputStream(initrd); InitrdWriter w = new InitrdWriter(out, InitrdOptions.defaults(InitrdCompression.ZSTD))) {
            InitrdTree.add(tree, w, false, Set.of());
            w.finish();
        }

        snakeoil = Sbsign.snakeoil(dir);
        unsignedKernel = Sbsign.unsigned(vmlinuz, dir.resolve("vmlinuz.unsigned"));
        assertThat(Sbsign.signers(unsignedKernel)).isEmpty();
        Path kernel = Sbsign.sign(snakeoil, unsignedKernel, dir.resolve("vmlinuz.efi"));
        assertThat(Sbsign.signers(kernel)).as("the kernel carries only the snakeoil signature").hasSize(1)
                .allMatch(s -> s.contains("SnakeOil"));

        osrel = Files.writeString(dir.resolve("os-release"), OS_RELEASE);
        cmdline = Files.writeString(dir.resolve("cmdline"), CMDLINE);
        sections = new LinkedHashMap<>();
        sections.put(".osrel", Files.readAllBytes(osrel));
        sections.put(".cmdline", Files.readAllBytes(cmdline));
        sections.put(".linux", Files.readAllBytes(kernel));
        sections.put(".initrd", Files.readAllBytes(initrd));
        unsignedUki = assembleUki(stub, osrel, cmdline, kernel, initrd, dir.resolve("uki.unsigned.efi"));
    }

    /** The snakeoil variable store, the busybox initramfs's marker; the guest powers off after printing what the tests read. */
    static BootRequest.Builder vm(Path uki) {
        return BootRequest.builder(BootTarget.uki(uki)).ovmfVars(SecureBootFirmware.SNAKEOIL_VARS).expect(BusyboxInitramfs.MARKER)
                .waitForPowerOff(true).timeout(java.time.Duration.ofMinutes(3)).searchPath(System.getenv("PATH"));
    }

    /** Stand-in for {@code cairn uki build}. */
    Path assembleUki(Path stub, Path osrel, Path cmdline, Path kernel, Path initrd, Path out) {
        ObjcopyUki.build(stub, List.of(new ObjcopyUki.Section(".osrel", osrel), new ObjcopyUki.Section(".cmdline", cmdline),
                new ObjcopyUki.Section(".linux", kernel), new ObjcopyUki.Section(".initrd", initrd)), out);
        return out;
    }

    /** Stand-in for cairn's Authenticode signer. */
    Path sign(Sbsign.Key key, Path image, Path out) {
        return Sbsign.sign(key, image, out);
    }

    @Test
    void snakeoilSignedUkiBootsWithTpmMeasurements() throws IOException, InterruptedException {
        Path uki = sign(snakeoil, unsignedUki, dir.resolve("uki.signed.efi"));
        BootResult r = SecureBootMachine.boot(vm(uki).build());
        System.out.println("[SecureBootMachineIT] signed UKI: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).as("the firmware reports Secure Boot to the kernel").contains("secureboot: Secure boot enabled");
        assertThat(r.valueAfter(BusyboxInitramfs.SECURE_BOOT_PREFIX)).as(r.describe()).contains("01");
        assertThat(r.valueAfter(BusyboxInitramfs.STUB_PCR_PREFIX)).as("the stub reports measuring into PCR 11\n" + r.describe())
                .contains("310031000000"); // "11" in UTF-16LE, NUL-terminated
        assertThat(r.valueAfter(BusyboxInitramfs.CMDLINE_PREFIX)).as(r.describe()).contains(CMDLINE);
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).as("PCR 11 as the systemd 252 stub measured the UKI\n" + r.describe())
                .contains(expectedPcr11(sections));
        // PCR 7: the snakeoil store's variables, the separator and the db entry that verified the UKI
        Pcr7Predictor.Result p7 = Pcr7Predictor.predict(Pcr7Predictor.fromVarStore(SecureBootFirmware.SNAKEOIL_VARS), List.of(uki));
        String pcr7 = java.util.HexFormat.of().withUpperCase().formatHex(
                dev.cairn.signing.secureboot.Pcr7Prediction.replay(p7.events(), dev.cairn.signing.pcr.PcrBank.SHA256));
        assertThat(pcr7).as("the snakeoil vector of measured-boot.md §1.4").isEqualTo(
                "02A4F904010EBDDFB1CE765622AF8D48AC2408422E220AD4EED1E1856407F704");
        assertThat(r.valueAfter(BusyboxInitramfs.PCR7_PREFIX)).as("PCR 7 in the guest vs cairn's prediction\n" + r.describe())
                .contains(pcr7);
        assertThat(r.console()).contains(BusyboxInitramfs.DONE);
    }

    @Test
    void unsignedUkiIsRefused() throws IOException, InterruptedException {
        BootResult r = SecureBootMachine.boot(vm(unsignedUki).tpm(false).build());
        System.out.println("[SecureBootMachineIT] unsigned UKI: " + r.describe());
        assertThat(r.refused()).as(r.describe()).isTrue();
        assertThat(r.console()).doesNotContain(BusyboxInitramfs.MARKER).doesNotContain("Linux version");
    }

    @Test
    void ukiSignedByKeyOutsideDbIsRefused() throws IOException, InterruptedException {
        Sbsign.Key other = Sbsign.throwAway(dir, "cairn-not-in-db");
        Path uki = sign(other, unsignedUki, dir.resolve("uki.other.efi"));
        assertThat(Sbsign.signers(uki)).hasSize(1).allMatch(s -> s.contains("cairn-not-in-db"));
        BootResult r = SecureBootMachine.boot(vm(uki).tpm(false).build());
        System.out.println("[SecureBootMachineIT] UKI signed by a key outside db: " + r.describe());
        assertThat(r.refused()).as(r.describe()).isTrue();
        assertThat(r.console()).doesNotContain(BusyboxInitramfs.MARKER).doesNotContain("Linux version");
    }

    @Test
    void debianStubDoesNotVerifyTheEmbeddedKernel() throws IOException, InterruptedException {
        Path inner = assembleUki(stub, osrel, cmdline, unsignedKernel, initrd, dir.resolve("uki.unsigned-kernel.efi"));
        Path uki = sign(snakeoil, inner, dir.resolve("uki.unsigned-kernel.signed.efi"));
        BootResult r = SecureBootMachine.boot(vm(uki).tpm(false).build());
        System.out.println("[SecureBootMachineIT] signed UKI, unsigned kernel: " + r.describe());
        assertThat(r.booted()).as("systemd 252's stub starts .linux itself, without the firmware's signature check\n" + r.describe())
                .isTrue();
        assertThat(r.valueAfter(BusyboxInitramfs.SECURE_BOOT_PREFIX)).as(r.describe()).contains("01");
    }

    @Test
    void timeoutKillsQemuAndSwtpmAndCleansUp() throws IOException, InterruptedException {
        BootResult r = SecureBootMachine.boot(vm(unsignedUki).timeout(java.time.Duration.ofSeconds(2)).build());
        assertThat(r.outcome()).as(r.describe()).isEqualTo(BootResult.Outcome.TIMED_OUT);
        assertThat(r.elapsed()).isLessThan(java.time.Duration.ofSeconds(20));
        String work = r.command().stream().filter(a -> a.startsWith("if=pflash,format=raw,unit=1,file=")).findFirst().orElseThrow()
                .replaceFirst(".*file=", "").replaceFirst("/OVMF_VARS\\.fd$", "");
        assertThat(Path.of(work)).as("work directory deleted").doesNotExist();
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse("")).filter(c -> c.contains(work)).toList())
                .as("no qemu or swtpm left running").isEmpty();
    }

    /**
     * PCR 11 after the Debian 12 (systemd 252) stub measured the UKI, from zero: for each section
     * present, in the stub's order (.linux .osrel .cmdline .initrd .splash .dtb .pcrpkey), extend
     * with SHA-256(name + NUL), then with SHA-256(content). A test-local oracle; cairn's predictor
     * is its own code.
     */
    static String expectedPcr11(Map<String, byte[]> sections) {
        byte[] pcr = new byte[32];
        for (String name : List.of(".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey")) {
            byte[] data = sections.get(name);
            if (data == null) {
                continue;
            }
            byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
            pcr = sha256(pcr, sha256(n));
            pcr = sha256(pcr, sha256(data));
        }
        return HexFormat.of().withUpperCase().formatHex(pcr);
    }

    private static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The newest {@code /boot/vmlinuz-*} (Debian package linux-image-amd64). */
    static Path newestKernel() {
        return dev.cairn.testing.boot.DebianBootFiles.kernel();
    }
}
