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
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: a UKI that cairn builds from Debian 12's stub and kernel plus a busybox
 * initramfs that {@code cairn initrd create} packs, signed by cairn with the OVMF snakeoil db key
 * (kernel signed inside too, as the 252 stub needs), boots under OVMF Secure Boot with a swtpm TPM;
 * the PCR 11 the guest reads equals {@code cairn uki measure}'s prediction. The same UKI unsigned,
 * signed by a key outside db, or with one byte of {@code .cmdline} changed, is refused by the firmware.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UkiBootIT {
    static final String CMDLINE = "console=ttyS0 panic=-1 cairn.boot-test=1";
    Path dir;
    Path kernel;
    Path initrd;
    Path keyPass;
    Path signed;

    @BeforeAll
    void build(@TempDir Path tmp) throws Exception {
        dir = tmp;
        SecureBootFirmware.requireInstalled();
        DebianBootFiles.stub();
        kernel = DebianBootFiles.kernel();
        String release = DebianBootFiles.release(kernel);
        Path tree = BusyboxInitramfs.writeTree(dir.resolve("initramfs"), Path.of("/lib/modules", release));
        initrd = dir.resolve("initrd.zst");
        MainTest.Run i = run("initrd", "create", tree.toString(), initrd.toString(), "--compress", "zstd");
        assertThat(i.code()).as(i.err()).isZero();
        keyPass = Files.writeString(dir.resolve("snakeoil.pass"), SecureBootFirmware.SNAKEOIL_PASSPHRASE + "\n");
        signed = ukiSignedBy(SecureBootFirmware.SNAKEOIL_KEY, SecureBootFirmware.SNAKEOIL_CERT, keyPass, "signed.efi");
    }

    /** The snakeoil variable store, the busybox initramfs's marker; the guest powers off after printing what the tests read. */
    static BootRequest.Builder vm(Path uki) {
        return BootRequest.builder(BootTarget.uki(uki)).ovmfVars(SecureBootFirmware.SNAKEOIL_VARS).expect(BusyboxInitramfs.MARKER)
                .waitForPowerOff(true).timeout(java.time.Duration.ofMinutes(3)).searchPath(System.getenv("PATH"));
    }

    Path ukiSignedBy(Path key, Path cert, Path pass, String name) {
        Path out = dir.resolve(name);
        List<String> args = new java.util.ArrayList<>(List.of("uki", "build", "--linux", kernel.toString(), "--initrd", initrd.toString(),
                "--cmdline", CMDLINE, "--os-release", "ID=cairn-test\nNAME=\"cairn boot test\"\n", "--output", out.toString()));
        if (key != null) {
            args.addAll(List.of("--secureboot-private-key", key.toString(), "--secureboot-certificate", cert.toString(), "--sign-kernel"));
            if (pass != null) {
                args.addAll(List.of("--key-pass-file", pass.toString()));
            }
        }
        MainTest.Run r = run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return out;
    }

    @Test
    void signedUkiBootsAndPcr11MatchesThePrediction() throws Exception {
        MainTest.Run m = run("uki", "measure", "--bank", "sha256", "--phase", ":", signed.toString());
        assertThat(m.code()).as(m.err()).isZero();
        String predicted = m.out().strip().replaceFirst("^11:sha256=", "").toUpperCase(Locale.ROOT);
        BootResult r = SecureBootMachine.boot(vm(signed).build());
        System.out.println("[UkiBootIT] cairn-signed UKI: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).contains("secureboot: Secure boot enabled");
        assertThat(r.valueAfter(BusyboxInitramfs.SECURE_BOOT_PREFIX)).as(r.describe()).contains("01");
        assertThat(r.valueAfter(BusyboxInitramfs.CMDLINE_PREFIX)).as(r.describe()).contains(CMDLINE);
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).as("PCR 11 read in the guest vs cairn uki measure\n" + r.describe())
                .contains(predicted);
        assertThat(r.console()).contains(BusyboxInitramfs.DONE);
    }

    /**
     * Issue "signing": OVMF with a variable store cairn wrote ({@code keys secureboot ovmf-vars})
     * holding cairn-made PK/KEK/db starts a UKI signed by that db key and refuses one signed by
     * another key (the snakeoil key, trusted by the stock store).
     */
    @Test
    void cairnVarStoreWithCairnKeysBootsItsOwnUkiAndRefusesOthers() throws Exception {
        Path keys = dir.resolve("sb-keys");
        MainTest.Run c = run("keys", "secureboot", "create", "--dir", keys.toString(), "--key-size", "2048", "--subject", "cairn boot test");
        assertThat(c.code()).as(c.err()).isZero();
        Path vars = dir.resolve("cairn-vars.fd");
        MainTest.Run v = run("keys", "secureboot", "ovmf-vars", "--dir", keys.toString(), "--out", vars.toString(),
                "--template", ToolOracle.requireFile(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), "ovmf").toString());
        assertThat(v.code()).as(v.err()).isZero();
        Path ours = dir.resolve("ours.efi");
        MainTest.Run b = run("uki", "build", "--linux", kernel.toString(), "--initrd", initrd.toString(), "--cmdline", CMDLINE,
                "--os-release", "ID=cairn-test\n", "--key", keys.resolve("db.key").toString(), "--cert", keys.resolve("db.crt").toString(),
                "--output", ours.toString());
        assertThat(b.code()).as(b.err()).isZero();
        BootResult r = SecureBootMachine.boot(vm(ours).ovmfVars(vars).tpm(false).build());
        System.out.println("[UkiBootIT] cairn keys, cairn var store, cairn-signed UKI: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).contains("secureboot: Secure boot enabled");
        BootResult refused = SecureBootMachine.boot(vm(signed).ovmfVars(vars).tpm(false).build());
        System.out.println("[UkiBootIT] cairn var store, snakeoil-signed UKI: " + refused.describe());
        assertThat(refused.refused()).as(refused.describe()).isTrue();
    }

    @Test
    void unsignedUkiIsRefused() throws Exception {
        BootResult r = SecureBootMachine.boot(vm(ukiSignedBy(null, null, null, "unsigned.efi")).tpm(false).build());
        System.out.println("[UkiBootIT] unsigned UKI: " + r.describe());
        assertThat(r.refused()).as(r.describe()).isTrue();
        assertThat(r.console()).doesNotContain(BusyboxInitramfs.MARKER).doesNotContain("Linux version");
    }

    @Test
    void ukiSignedByAKeyOutsideDbIsRefused() throws Exception {
        TestPki.KeyAndCert other = TestPki.get().secureBoot();
        Path uki = ukiSignedBy(other.writeKeyPem(dir.resolve("other.key")), other.writeCertPem(dir.resolve("other.crt")), null, "other.efi");
        BootResult r = SecureBootMachine.boot(vm(uki).tpm(false).build());
        System.out.println("[UkiBootIT] UKI signed outside db: " + r.describe());
        assertThat(r.refused()).as(r.describe()).isTrue();
        assertThat(r.console()).doesNotContain(BusyboxInitramfs.MARKER);
    }

    @Test
    void oneByteChangedInCmdlineIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(signed);
        byte[] needle = CMDLINE.getBytes(StandardCharsets.US_ASCII);
        int at = -1;
        for (int i = 0; i <= b.length - needle.length && at < 0; i++) {
            if (java.util.Arrays.equals(b, i, i + needle.length, needle, 0, needle.length)) {
                at = i;
            }
        }
        assertThat(at).isPositive();
        b[at + needle.length - 1] = '2'; // cairn.boot-test=2
        Path tampered = Files.write(dir.resolve("tampered.efi"), b);
        BootResult r = SecureBootMachine.boot(vm(tampered).tpm(false).build());
        System.out.println("[UkiBootIT] tampered .cmdline: " + r.describe());
        assertThat(r.refused()).as(r.describe()).isTrue();
        assertThat(r.console()).doesNotContain(BusyboxInitramfs.MARKER);
    }
}
