package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.pipeline.boot.BootRequest;
import dev.cairn.pipeline.boot.BootResult;
import dev.cairn.pipeline.boot.BootTarget;
import dev.cairn.pipeline.boot.SecureBootMachine;
import dev.cairn.testing.boot.BusyboxInitramfs;
import dev.cairn.testing.boot.DebianBootFiles;
import dev.cairn.testing.boot.SecureBootFirmware;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled example, built by {@code cairn build} exactly as README command 1 does, booted in
 * QEMU + OVMF with Secure Boot on and the build's own development keys enrolled (its
 * {@code dev-keys/secureboot/OVMF_VARS.fd}), {@code rootfs.img} attached as the first virtio disk:
 * <ul>
 *   <li>Debian's 6.1 kernel: the initramfs opens the SquashFS through dm-verity with the root hash
 *       from the signed command line, mounts it and prints the marker; PCR 11 read in the guest is the
 *       manifest's prediction;</li>
 *   <li>the same UKI with one byte of the SquashFS changed: reading the root fails with an I/O error
 *       and the kernel names the corrupted block;</li>
 *   <li>the same example built {@code --unsigned}, signed round by round on a "station" holding only
 *       the PEM development keys ({@code cairn sign request}) and injected: byte-identical to the
 *       one-shot set (disk image included), and it boots the same way;</li>
 *   <li>{@code examples/image-ipe.yaml} on Debian's 6.12 kernel: the kernel accepts the root-hash
 *       signature (checked against db through the platform keyring), loads and activates the signed
 *       IPE policy; a program on the verity root runs, its copy on a tmpfs is denied.</li>
 * </ul>
 */
class BuildBootIT {
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    static final String DONE = "CAIRN-BOOT-DONE";
    static final String MARKER = "CAIRN-ROOT-MARKER=";
    static final String IO_ERROR = "CAIRN-ROOT-IO-ERROR";
    static final String MOUNTED = "cairn-init: root mounted read-only at /sysroot through dm-verity";

    @TempDir
    static Path dir;
    static Path out;
    /** Every file of the one-shot set as built (before any test boots or copies it). */
    static java.util.Map<String, String> outState;

    static Path examples() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("examples/image.yaml"))) {
                return p.resolve("examples");
            }
        }
        throw new IllegalStateException("examples/image.yaml not found above " + Path.of("").toAbsolutePath());
    }

    static Path build(String spec, String name) {
        Path o = dir.resolve(name);
        MainTest.Run r = run("build", examples().resolve(spec).toString(), "--out", o.toString());
        assertThat(r.code()).as(r.err()).isZero();
        return o;
    }

    @BeforeAll
    static void buildExample() {
        SecureBootFirmware.requireInstalled();
        DebianBootFiles.stub();
        DebianBootFiles.kernel();
        out = build("image.yaml", "out");
        assertThat(out.resolve("dev-keys/secureboot/OVMF_VARS.fd")).isRegularFile();
        try {
            outState = SplitSigningIT.state(out);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The set's UKI with {@code disk} as /dev/vda, the set's own variable store, until the example /init's last line. */
    static BootResult boot(Path set, String efi, Path disk) throws IOException, InterruptedException {
        return SecureBootMachine.boot(BootRequest.builder(BootTarget.uki(set.resolve(efi), disk))
                .ovmfVars(set.resolve("dev-keys/secureboot/OVMF_VARS.fd")).expect(DONE).waitForPowerOff(true).timeout(TIMEOUT)
                .searchPath(System.getenv("PATH")).build());
    }

    @Test
    void exampleBootsWithItsOwnKeysOpensTheRootThroughDmVerityAndPcr11IsTheManifestsPrediction() throws Exception {
        JsonNode m = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        String predicted = null;
        for (JsonNode p : m.path("uki").path("pcr11")) {
            if (p.path("phase").asText().equals(":") && p.path("bank").asText().equals("sha256")) {
                predicted = p.path("value").asText().toUpperCase(Locale.ROOT);
            }
        }
        assertThat(predicted).as("the manifest predicts PCR 11 after the stub").isNotNull();
        BootResult r = boot(out, "cairn-example.efi", out.resolve("rootfs.img"));
        System.out.println("[BuildBootIT] example, intact root: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).contains("secureboot: Secure boot enabled", MOUNTED).doesNotContain(IO_ERROR);
        assertThat(r.valueAfter(MARKER)).as(r.describe()).contains(Files.readString(examples().resolve("rootfs/etc/cairn-marker")).strip());
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).as("PCR 11 in the guest vs the manifest\n" + r.describe()).contains(predicted);
        assertThat(r.console()).contains("cairn.verity.roothash=" + m.path("verity").path("rootHash").asText());
        // PCR 7 from cairn's own key store: its variables and the db entry that verified the UKI
        MainTest.Run p7 = run("pcr", "predict", "7", "--ovmf-vars", out.resolve("dev-keys/secureboot/OVMF_VARS.fd").toString(),
                "--uki", out.resolve("cairn-example.efi").toString(), "--bank", "sha256");
        assertThat(p7.code()).as(p7.err()).isZero();
        assertThat(p7.out()).matches("7:sha256=[0-9a-f]{64}\n");
        assertThat(r.valueAfter(BusyboxInitramfs.PCR7_PREFIX)).as("PCR 7 in the guest vs cairn pcr predict 7\n" + r.describe())
                .contains(p7.out().strip().substring("7:sha256=".length()).toUpperCase(Locale.ROOT));
        String manifestPcr7 = null;
        for (JsonNode p : m.path("tpm").path("pcr7")) {
            if (p.path("bank").asText().equals("sha256")) {
                manifestPcr7 = p.path("value").asText();
            }
        }
        assertThat(m.at("/tpm/keyStore/source").asText()).isEqualTo("dev");
        assertThat(m.at("/tpm/keyStore/file").asText()).isEqualTo("secureboot/OVMF_VARS.fd");
        assertThat(r.valueAfter(BusyboxInitramfs.PCR7_PREFIX)).as("PCR 7 in the guest vs the manifest's tpm.pcr7").isNotNull()
                .contains(String.valueOf(manifestPcr7).toUpperCase(Locale.ROOT));
    }

    @Test
    void theExampleSignedOnAStationIsTheOneShotSetAndBootsUnderSecureBoot() throws Exception {
        Path keys = out.resolve("dev-keys");
        Path split = dir.resolve("split");
        Path spec = examples().resolve("image.yaml");
        MainTest.Run r = run("build", spec.toString(), "--out", split.toString(), "--dev-keys", keys.toString(), "--unsigned", "-q");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> rounds = SplitSigningIT.complete(spec, split, keys, dir, SplitSigningIT.pemStation(keys));
        assertThat(rounds).contains("1 secureboot roothash", "3 secureboot authenticode:cairn-example.efi", "4 manifest manifest");
        assertThat(SplitSigningIT.state(split)).isEqualTo(outState);
        BootResult b = SecureBootMachine.boot(BootRequest.builder(BootTarget.uki(split.resolve("cairn-example.efi"), split.resolve("rootfs.img")))
                .ovmfVars(keys.resolve("secureboot/OVMF_VARS.fd")).expect(DONE).waitForPowerOff(true).timeout(TIMEOUT)
                .searchPath(System.getenv("PATH")).build());
        System.out.println("[BuildBootIT] example signed on a station and injected: " + b.describe());
        assertThat(b.booted()).as(b.describe()).isTrue();
        assertThat(b.console()).contains("secureboot: Secure boot enabled", MOUNTED).doesNotContain(IO_ERROR);
        assertThat(b.valueAfter(MARKER)).as(b.describe()).contains(Files.readString(examples().resolve("rootfs/etc/cairn-marker")).strip());
    }

    /** The disk image alone (no -kernel, no second drive): the firmware starts its ESP's BOOTX64.EFI. */
    static BootResult bootDisk(Path set, Path disk) throws IOException, InterruptedException {
        return SecureBootMachine.boot(BootRequest.builder(BootTarget.diskImage(disk))
                .ovmfVars(set.resolve("dev-keys/secureboot/OVMF_VARS.fd")).expect(DONE).waitForPowerOff(true).timeout(TIMEOUT)
                .searchPath(System.getenv("PATH")).build());
    }

    /** The squashfs superblock's inode_table_start: the byte before it is the last byte of file data. */
    static long inodeTableStart(Path squashfs, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(squashfs.toFile(), "r")) {
            byte[] sb = new byte[96];
            f.seek(at);
            f.readFully(sb);
            return ByteBuffer.wrap(sb).order(ByteOrder.LITTLE_ENDIAN).getLong(64);
        }
    }

    @Test
    void theDiskImageBootsAloneFindsItsRootByPartuuidAndPcr11IsThePrediction() throws Exception {
        JsonNode m = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        String predicted = null;
        for (JsonNode p : m.path("uki").path("pcr11")) {
            if (p.path("phase").asText().equals(":") && p.path("bank").asText().equals("sha256")) {
                predicted = p.path("value").asText().toUpperCase(Locale.ROOT);
            }
        }
        BootResult r = bootDisk(out, out.resolve("disk.raw"));
        System.out.println("[BuildBootIT] example disk.raw: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(String.join(" ", r.command())).contains("disk.raw").doesNotContain("-kernel").doesNotContain("rootfs.img")
                .doesNotContain("fat:");
        assertThat(r.console()).contains("secureboot: Secure boot enabled", MOUNTED).doesNotContain(IO_ERROR);
        assertThat(r.console()).as("the root and hash partitions found by the PARTUUIDs the root hash implies")
                .contains("cairn-init: root partition /dev/vda2, hash partition /dev/vda3 (by PARTUUID)");
        assertThat(r.valueAfter(MARKER)).as(r.describe()).contains(Files.readString(examples().resolve("rootfs/etc/cairn-marker")).strip());
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).as("PCR 11 in the guest vs the manifest\n" + r.describe()).contains(predicted);
    }

    @Test
    void oneChangedByteInTheDisksRootPartitionIsAnIoError() throws Exception {
        JsonNode m = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        long rootOffset = -1;
        for (JsonNode p : m.path("disk").path("partitions")) {
            if (p.path("designator").asText().equals("root-x86-64")) {
                rootOffset = p.path("offset").asLong();
            }
        }
        assertThat(rootOffset).isPositive();
        Path tampered = dir.resolve("disk-tampered.raw");
        Files.copy(out.resolve("disk.raw"), tampered);
        long at = rootOffset + inodeTableStart(tampered, rootOffset) - 1;
        try (RandomAccessFile f = new RandomAccessFile(tampered.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        }
        BootResult r = bootDisk(out, tampered);
        System.out.println("[BuildBootIT] example disk, byte " + at + " (in the root partition) changed: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).contains("(by PARTUUID)", IO_ERROR).doesNotContain(MARKER);
        assertThat(r.console()).as("the kernel names the corrupted block").containsPattern("device-mapper: verity: .*data block \\d+ is corrupted");
    }

    @Test
    void oneChangedSquashfsByteIsAnIoErrorInTheGuest() throws Exception {
        Path tampered = dir.resolve("rootfs-tampered.img");
        Files.copy(out.resolve("rootfs.img"), tampered);
        long inodeTable;
        try (RandomAccessFile f = new RandomAccessFile(tampered.toFile(), "rw")) {
            byte[] sb = new byte[96];
            f.readFully(sb);
            inodeTable = ByteBuffer.wrap(sb).order(ByteOrder.LITTLE_ENDIAN).getLong(64); // squashfs superblock inode_table_start
            long at = inodeTable - 1; // the last byte of file data (data blocks and fragments end where the inode table starts)
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        }
        BootResult r = boot(out, "cairn-example.efi", tampered);
        System.out.println("[BuildBootIT] example, byte " + (inodeTable - 1) + " of the SquashFS changed: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).contains(IO_ERROR).doesNotContain(MARKER);
        assertThat(r.console()).as("the kernel names the corrupted block").containsPattern("device-mapper: verity: .*data block \\d+ is corrupted");
    }

    @Test
    void ipeExampleOn612RootHashSignatureAndSignedPolicyAreEnforced() throws Exception {
        DebianBootFiles.ipeKernel();
        Path ipe = build("image-ipe.yaml", "out-ipe");
        BootResult r = boot(ipe, "cairn-example-ipe.efi", ipe.resolve("rootfs.img"));
        System.out.println("[BuildBootIT] IPE example on 6.12: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).contains("cairn.verity.sig=/etc/cairn/roothash.p7s", "cairn.ipe.policy=/etc/ipe/policy.p7s");
        assertThat(r.console()).as("veritysetup --root-hash-signature accepted by the kernel").contains(MOUNTED).doesNotContain(IO_ERROR);
        assertThat(r.valueAfter(MARKER)).isPresent();
        assertThat(r.console()).contains("cairn-init: IPE policy cairn_example_ipe active");
        assertThat(r.valueAfter("CAIRN-IPE-ROOT-EXEC=")).contains("allowed");
        assertThat(r.valueAfter("CAIRN-IPE-TMPFS-EXEC=")).contains("denied");
    }
}
