package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.boot.BootRequest;
import dev.cairn.pipeline.boot.BootResult;
import dev.cairn.pipeline.boot.BootTarget;
import dev.cairn.pipeline.boot.SecureBootMachine;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.BusyboxInitramfs;
import dev.cairn.testing.boot.DebianBootFiles;
import dev.cairn.testing.boot.SecureBootFirmware;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A verified boot end to end, with the real Debian kernel: a SquashFS root that
 * {@code cairn squashfs create} writes, protected by {@code cairn verity format} with the tree
 * appended to the same image, attached as a read-only virtio disk; an initramfs that
 * {@code cairn initrd create} packs from {@code examples/initramfs/init}, static busybox,
 * {@code --binary /usr/sbin/veritysetup} (with its libraries) and the kernel modules
 * dm-verity, squashfs, virtio_blk and virtio_pci (with their dependencies); a UKI that
 * {@code cairn uki build} signs with the OVMF snakeoil key and whose command line carries the
 * root hash. Under Secure Boot with a TPM the guest opens the root through dm-verity and prints
 * the marker file; PCR 11 equals {@code cairn uki measure}. The same UKI with one byte of that
 * file changed on the disk mounts the root but reading the file fails with an I/O error.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VerityBootIT {
    static final List<String> APPLETS = List.of("sh", "cat", "echo", "mkdir", "mount", "insmod", "sleep", "poweroff");
    static final List<String> MODULES = List.of("dm-verity", "squashfs", "virtio_blk", "virtio_pci");
    static final Duration TIMEOUT = Duration.ofMinutes(4);
    static final String DONE = "CAIRN-BOOT-DONE";
    static final String MARKER_PREFIX = "CAIRN-ROOT-MARKER=";
    static final String IO_ERROR = "CAIRN-ROOT-IO-ERROR";
    static final String MOUNTED = "cairn-init: root mounted read-only at /sysroot through dm-verity";

    Path dir;
    Path disk;
    Path uki;
    String marker;
    long markerOffset;
    String cmdline;

    @BeforeAll
    void build(@TempDir Path tmp) throws Exception {
        dir = tmp;
        SecureBootFirmware.requireInstalled();
        DebianBootFiles.stub();
        Path kernel = DebianBootFiles.kernel();
        String release = DebianBootFiles.release(kernel);
        Path modulesDir = ToolOracle.requireFile(Path.of("/lib/modules", release, "modules.dep"), "linux-image-amd64").getParent();
        Path veritysetup = ToolOracle.requireFile(Path.of("/usr/sbin/veritysetup"), "cryptsetup-bin");

        // 1. The root: the marker file between incompressible fillers, so that the 4 KiB block holding the
        //    marker's data holds file data only (no superblock, no inode or directory table).
        Path root = Files.createDirectories(dir.resolve("root/etc"));
        marker = "cairn-verity-root-" + HexFormat.of().formatHex(SeededData.bytes(7, 12));
        Files.writeString(root.resolve("cairn-marker"), marker + "\n");
        for (String f : List.of("root/a-filler", "root/etc/a-filler", "root/etc/z-filler", "root/z-filler")) {
            Files.write(dir.resolve(f), SeededData.bytes(f.hashCode(), 16 * 1024));
        }
        disk = dir.resolve("root.img");
        ok(run("squashfs", "create", dir.resolve("root").toString(), disk.toString(), "--no-fragments", "--all-root", "--mtime", "0",
                "--processors", "1"));
        long squashfsSize = Files.size(disk);
        long hashOffset = (squashfsSize + 4095) / 4096 * 4096;
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(hashOffset);
        }

        // 2. dm-verity tree appended to the same image.
        Path rootHashFile = dir.resolve("root.roothash");
        ok(run("verity", "format", disk.toString(), disk.toString(), "--hash-offset", Long.toString(hashOffset),
                "--data-blocks", Long.toString(hashOffset / 4096), "--seed", "cairn verity boot test", "--root-hash-file",
                rootHashFile.toString()));
        String rootHash = Files.readString(rootHashFile).strip();
        assertThat(rootHash).matches("[0-9a-f]{64}");
        markerOffset = locateMarker(disk, marker, hashOffset);

        // 3. The initramfs: the example /init, busybox, veritysetup with its libraries, the modules.
        Path tree = Files.createDirectories(dir.resolve("initramfs"));
        Files.setPosixFilePermissions(tree, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.copy(exampleInit(), tree.resolve("init"));
        Files.setPosixFilePermissions(tree.resolve("init"), PosixFilePermissions.fromString("rwxr-xr-x"));
        BusyboxInitramfs.installBusybox(tree, APPLETS);
        Path initrd = dir.resolve("initrd.zst");
        List<String> args = new java.util.ArrayList<>(List.of("initrd", "create", tree.toString(), initrd.toString(), "--binary",
                veritysetup.toString(), "--kernel-modules", modulesDir.toString()));
        for (String m : MODULES) {
            args.addAll(List.of("--module", m));
        }
        MainTest.Run i = ok(run(args.toArray(String[]::new)));
        System.out.println("[VerityBootIT] " + i.out().strip());

        // 4. The signed UKI; the command line names the disk, the tree offset and the root hash.
        cmdline = "console=ttyS0 panic=-1 cairn.verity.data=/dev/vda cairn.verity.hashoffset=" + hashOffset
                + " cairn.verity.roothash=" + rootHash;
        Path pass = Files.writeString(dir.resolve("snakeoil.pass"), SecureBootFirmware.SNAKEOIL_PASSPHRASE + "\n");
        uki = dir.resolve("verity.efi");
        ok(run("uki", "build", "--linux", kernel.toString(), "--initrd", initrd.toString(), "--cmdline", cmdline, "--os-release",
                "ID=cairn-test\nNAME=\"cairn verity boot test\"\n", "--secureboot-private-key", SecureBootFirmware.SNAKEOIL_KEY.toString(),
                "--secureboot-certificate", SecureBootFirmware.SNAKEOIL_CERT.toString(), "--sign-kernel", "--key-pass-file", pass.toString(),
                "--output", uki.toString()));
        System.out.printf("[VerityBootIT] kernel %s, squashfs %d bytes, hash offset %d, disk %d bytes, initrd %d bytes, UKI %d bytes%n",
                release, squashfsSize, hashOffset, Files.size(disk), Files.size(initrd), Files.size(uki));
    }

    /** The UKI with {@code rootDisk} as /dev/vda under the snakeoil variable store, until /init's last line. */
    BootResult boot(Path rootDisk) throws IOException, InterruptedException {
        return SecureBootMachine.boot(BootRequest.builder(BootTarget.uki(uki, rootDisk)).ovmfVars(SecureBootFirmware.SNAKEOIL_VARS)
                .expect(DONE).waitForPowerOff(true).timeout(TIMEOUT).searchPath(System.getenv("PATH")).build());
    }

    @Test
    void intactRootIsOpenedThroughDmVerityAndPcr11MatchesThePrediction() throws Exception {
        MainTest.Run m = ok(run("uki", "measure", "--bank", "sha256", "--phase", ":", uki.toString()));
        String predicted = m.out().strip().replaceFirst("^11:sha256=", "").toUpperCase(Locale.ROOT);
        BootResult r = boot(disk);
        System.out.println("[VerityBootIT] intact root: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        assertThat(r.console()).contains("secureboot: Secure boot enabled").contains(MOUNTED);
        assertThat(r.valueAfter(MARKER_PREFIX)).as(r.describe()).contains(marker);
        assertThat(r.console()).doesNotContain(IO_ERROR);
        assertThat(r.valueAfter(BusyboxInitramfs.PCR11_PREFIX)).as("PCR 11 read in the guest vs cairn uki measure\n" + r.describe())
                .contains(predicted);
    }

    @Test
    void oneChangedByteInTheMarkerFileIsAnIoErrorInTheGuest() throws Exception {
        Path tampered = dir.resolve("root-tampered.img");
        Files.copy(disk, tampered);
        try (RandomAccessFile f = new RandomAccessFile(tampered.toFile(), "rw")) {
            f.seek(markerOffset + 3);
            int b = f.read();
            f.seek(markerOffset + 3);
            f.write(b ^ 0x01);
        }
        BootResult r = boot(tampered);
        System.out.println("[VerityBootIT] one byte changed in etc/cairn-marker: " + r.describe());
        assertThat(r.booted()).as(r.describe()).isTrue();
        // The root still opens and mounts (superblock and tables are intact); only the changed block fails.
        assertThat(r.console()).contains(MOUNTED).contains(IO_ERROR).doesNotContain(MARKER_PREFIX).doesNotContain(marker);
        assertThat(r.console()).as("the kernel names the corrupted block").containsPattern("device-mapper: verity: .*data block \\d+ is corrupted");
    }

    /**
     * Offset of the marker's bytes in the image (stored uncompressed: deflate cannot shrink them). The 4 KiB block
     * holding them must lie after the SquashFS superblock and before its inode table, so that changing it only
     * breaks reading the file, never the mount.
     */
    static long locateMarker(Path image, String marker, long dataEnd) throws IOException {
        byte[] b = Files.readAllBytes(image);
        byte[] needle = marker.getBytes(StandardCharsets.US_ASCII);
        long at = -1;
        for (int i = 0; i <= dataEnd - needle.length; i++) {
            if (java.util.Arrays.equals(b, i, i + needle.length, needle, 0, needle.length)) {
                assertThat(at).as("marker found twice").isEqualTo(-1);
                at = i;
            }
        }
        assertThat(at).as("marker stored uncompressed in the image").isPositive();
        long inodeTableStart = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(64); // squashfs superblock inode_table_start
        long blockStart = at / 4096 * 4096;
        assertThat(blockStart).as("marker block after the superblock's block").isGreaterThanOrEqualTo(4096);
        assertThat(blockStart + 4096).as("marker block before the inode table at %d", inodeTableStart).isLessThanOrEqualTo(inodeTableStart);
        return at;
    }

    static Path exampleInit() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path init = p.resolve("examples/initramfs/init");
            if (Files.isRegularFile(init)) {
                return init;
            }
        }
        throw new IllegalStateException("examples/initramfs/init not found above " + Path.of("").toAbsolutePath());
    }

    static MainTest.Run ok(MainTest.Run r) {
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        return r;
    }
}
