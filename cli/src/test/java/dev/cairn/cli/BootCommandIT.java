package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.DebianBootFiles;
import dev.cairn.testing.boot.SecureBootFirmware;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn boot} as a user runs it: the packaged launcher on the bundled example, built by {@code cairn build}
 * (development keys, so its own variable store boots it):
 * <ul>
 *   <li>{@code --expect} the example's marker line: exit 0, the console on standard output, nothing in the set changed;
 *   <li>a disk image (GPT, the example's UKI as {@code /EFI/BOOT/BOOTX64.EFI} on a FAT ESP, made by sgdisk, mkfs.vfat
 *       and mtools as the stand-in for cairn's own disk output) in a set directory: booted alone, never written;
 *   <li>{@code --timeout 5 --expect NEVER-PRINTED}: exit 1;
 *   <li>no qemu-system-x86_64 or swtpm on PATH: exit 3 naming the Debian package;
 *   <li>SIGINT to the launcher while the guest boots: no QEMU or swtpm left, no temporary directory.
 * </ul>
 * Each run gets its own {@code java.io.tmpdir}, which must be empty afterwards.
 */
class BootCommandIT {
    static final Duration RUN_LIMIT = Duration.ofMinutes(6);

    @TempDir
    static Path dir;
    static Path out;
    static Path launcher;
    static String marker;

    @TempDir
    Path tmp;

    @BeforeAll
    static void buildExample() throws IOException {
        SecureBootFirmware.requireInstalled();
        DebianBootFiles.stub();
        DebianBootFiles.kernel();
        launcher = LauncherIT.locate();
        out = dir.resolve("out");
        MainTest.Run r = run("build", BuildBootIT.examples().resolve("image.yaml").toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        marker = "CAIRN-ROOT-MARKER=" + Files.readString(BuildBootIT.examples().resolve("rootfs/etc/cairn-marker")).strip();
    }

    record Out(int code, String out, String err, Duration took) {
        String describe() {
            return "exit " + code + " after " + took.toMillis() + " ms\n--- stderr ---\n" + err + "\n--- last stdout ---\n"
                    + out.substring(Math.max(0, out.length() - 3000));
        }
    }

    /** The launcher with {@code java.io.tmpdir} = {@link #tmp}; {@code env} entries replace (or, with a null value, remove) variables. */
    ProcessBuilder cairn(Map<String, String> env, Path stdout, Path stderr, String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        pb.environment().put("CAIRN_OPTS", "-Djava.io.tmpdir=" + tmp);
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        return pb;
    }

    Out cairn(Map<String, String> env, String... args) throws Exception {
        Path o = Files.createTempFile(dir, "out", ".txt");
        Path e = Files.createTempFile(dir, "err", ".txt");
        long start = System.nanoTime();
        Process p = cairn(env, o, e, args).start();
        if (!p.waitFor(RUN_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("cairn " + String.join(" ", args) + " still running after " + RUN_LIMIT);
        }
        return new Out(p.exitValue(), Files.readString(o, StandardCharsets.UTF_8), Files.readString(e, StandardCharsets.UTF_8),
                Duration.ofNanos(System.nanoTime() - start));
    }

    void assertNothingLeft() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.toList()).as("temporary files left in java.io.tmpdir").isEmpty();
        }
        assertThat(ProcessHandle.allProcesses().map(h -> h.info().commandLine().orElse("")).filter(c -> c.contains(tmp.toString())).toList())
                .as("processes left running").isEmpty();
    }

    static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    static Map<Path, String> digests(Path... files) throws Exception {
        Map<Path, String> m = new LinkedHashMap<>();
        for (Path f : files) {
            m.put(f, sha256(f));
        }
        return m;
    }

    static Map<Path, String> digests(Map<Path, String> before) throws Exception {
        return digests(before.keySet().toArray(Path[]::new));
    }

    @Test
    void theExampleBootsUntilItsMarkerAndNothingInTheSetChanges() throws Exception {
        Path extra = Files.write(dir.resolve("extra.img"), new byte[1 << 20]);
        Map<Path, String> before = digests(out.resolve("dev-keys/secureboot/OVMF_VARS.fd"), out.resolve("rootfs.img"),
                out.resolve("cairn-example.efi"), out.resolve("disk.raw"), extra);
        Out r = cairn(Map.of(), "boot", out.toString(), "--expect", marker, "--disk", extra.toString());
        System.out.println("[BootCommandIT] cairn boot OUT --expect marker: " + r.describe().lines().limit(8).toList());
        assertThat(r.code()).as(r.describe()).isZero();
        // the example writes disk.raw (outputs.disk): the set boots from that disk alone, its root found by PARTUUID
        assertThat(r.err()).contains("cairn: booting disk image " + out.resolve("disk.raw") + " with Secure Boot and a TPM",
                "'" + marker + "' appeared after ");
        assertThat(r.out()).contains("(by PARTUUID)");
        assertThat(r.out()).as("the console, on standard output").contains("secureboot: Secure boot enabled",
                "cairn-init: root mounted read-only at /sysroot through dm-verity", marker);
        assertThat(r.out()).as("--disk is the second virtio disk").containsPattern("virtio_blk virtio\\d: \\[vdb\\] 2048 512-byte logical blocks");
        assertThat(digests(before)).as("the variable store, the disks and the UKI are never written").isEqualTo(before);
        assertNothingLeft();
    }

    @Test
    void aSetWithADiskImageBootsTheDiskAloneAndNeverWritesIt() throws Exception {
        Path set = Files.createDirectories(dir.resolve("disk-set/dev-keys/secureboot")).getParent().getParent();
        Files.copy(out.resolve("dev-keys/secureboot/OVMF_VARS.fd"), set.resolve("dev-keys/secureboot/OVMF_VARS.fd"));
        Path disk = diskWithEsp(out.resolve("cairn-example.efi"), set.resolve("disk.raw"));
        Map<Path, String> before = digests(disk);
        Out r = cairn(Map.of(), "boot", set.toString(), "--expect", "Run /init as init process", "--no-tpm");
        System.out.println("[BootCommandIT] cairn boot SET-WITH-disk.raw: " + r.describe().lines().limit(8).toList());
        assertThat(r.code()).as(r.describe()).isZero();
        assertThat(r.err()).contains("cairn: booting disk image " + disk + " with Secure Boot" + System.lineSeparator(),
                " -drive if=virtio,format=raw,file=" + disk + ",snapshot=on -nographic ").doesNotContain("fat:rw:");
        assertThat(r.out()).contains("BdsDxe: starting Boot0002 \"UEFI Misc Device\" from PciRoot(0x0)/Pci(0x2,0x0)",
                "secureboot: Secure boot enabled");
        assertThat(digests(before)).as("snapshot=on: the guest never writes the disk image").isEqualTo(before);
        assertNothingLeft();
    }

    /**
     * A raw GPT disk whose one partition, an ESP (type EF00), holds {@code uki} as {@code /EFI/BOOT/BOOTX64.EFI}: the
     * FAT file system made by mkfs.vfat and filled by mtools, the partition table by sgdisk.
     */
    static Path diskWithEsp(Path uki, Path disk) throws IOException {
        ToolOracle sgdisk = ToolOracle.require("sgdisk", "gdisk");
        ToolOracle mkfs = ToolOracle.require("mkfs.vfat", "dosfstools");
        ToolOracle mmd = ToolOracle.require("mmd", "mtools");
        ToolOracle mcopy = ToolOracle.require("mcopy", "mtools");
        long espMiB = Files.size(uki) / (1 << 20) + 16;
        Path esp = disk.resolveSibling("esp.img");
        mkfs.runOk("-C", esp.toString(), Long.toString(espMiB * 1024));
        mmd.runOk("-i", esp.toString(), "::/EFI", "::/EFI/BOOT");
        mcopy.runOk("-i", esp.toString(), uki.toString(), "::/EFI/BOOT/BOOTX64.EFI");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength((espMiB + 2) << 20); // 1 MiB before the ESP, room for the backup GPT after it
        }
        sgdisk.runOk("-n", "1:2048:+" + espMiB + "M", "-t", "1:ef00", "-c", "1:ESP", disk.toString());
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.seek(1 << 20);
            f.write(Files.readAllBytes(esp));
        }
        Files.delete(esp);
        return disk;
    }

    @Test
    void aTimeoutIsExitOne() throws Exception {
        Out r = cairn(Map.of(), "boot", out.toString(), "--timeout", "5", "--expect", "NEVER-PRINTED");
        assertThat(r.code()).as(r.describe()).isEqualTo(1);
        assertThat(r.err()).endsWith("cairn: timed out after 5 s before 'NEVER-PRINTED' appeared" + System.lineSeparator());
        assertThat(r.took()).isLessThan(Duration.ofSeconds(60));
        assertNothingLeft();
    }

    @Test
    void missingQemuOrSwtpmIsExitThreeNamingTheDebianPackage() throws Exception {
        Out noQemu = cairn(Map.of("PATH", pathWithout("qemu-system-x86_64").toString()), "boot", out.toString(), "--expect", marker);
        assertThat(noQemu.code()).as(noQemu.describe()).isEqualTo(3);
        assertThat(noQemu.err()).contains("qemu-system-x86_64 not found", "install Debian package qemu-system-x86");
        Out noSwtpm = cairn(Map.of("PATH", pathWithout("swtpm").toString()), "boot", out.toString(), "--expect", marker);
        assertThat(noSwtpm.code()).as(noSwtpm.describe()).isEqualTo(3);
        assertThat(noSwtpm.err()).contains("swtpm not found", "install Debian package swtpm (or boot without a TPM)");
        Out noFirmware = cairn(Map.of(), "boot", out.toString(), "--ovmf-code", dir.resolve("no-such-ovmf.fd").toString());
        assertThat(noFirmware.code()).as(noFirmware.describe()).isEqualTo(3);
        assertThat(noFirmware.err()).contains(dir.resolve("no-such-ovmf.fd") + ": no such file");
        assertNothingLeft();
    }

    /** A directory of links to every program on this PATH but {@code tool}: the launcher's shell tools and java stay. */
    Path pathWithout(String tool) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("path-without-" + tool));
        for (String d : System.getenv("PATH").split(":")) {
            Path p = Path.of(d);
            if (d.isEmpty() || !Files.isDirectory(p)) {
                continue;
            }
            try (Stream<Path> s = Files.list(p)) {
                for (Path f : s.toList()) {
                    Path link = bin.resolve(f.getFileName().toString());
                    if (!f.getFileName().toString().equals(tool) && Files.isExecutable(f) && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, f);
                    }
                }
            }
        }
        return bin;
    }

    @Test
    void ctrlCWhileBootingStopsQemuAndSwtpmAndRemovesTheTemporaryDirectory() throws Exception {
        Path o = dir.resolve("sigint.out");
        Path e = dir.resolve("sigint.err");
        Process p = cairn(Map.of(), o, e, "boot", out.toString()).start();
        try {
            // wait until QEMU runs (under TCG, after a failed KVM start where KVM lacks SMM) and the firmware prints
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            Optional<ProcessHandle> qemu = Optional.empty();
            while (System.nanoTime() < deadline && (qemu.isEmpty() || !qemu.get().isAlive() || Files.size(o) == 0)) {
                Thread.sleep(100);
                qemu = p.descendants().filter(h -> h.info().command().orElse("").endsWith("qemu-system-x86_64")).findFirst();
            }
            assertThat(qemu).as("QEMU started\n" + Files.readString(e)).isPresent();
            assertThat(Files.size(o)).as("the console started").isPositive();
            List<ProcessHandle> children = p.descendants().toList();
            assertThat(children.stream().map(h -> h.info().command().orElse(""))).anyMatch(c -> c.endsWith("/swtpm"));
            LauncherIT.signal(p.pid()); // SIGINT to the JVM alone: cairn itself must stop QEMU and swtpm
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("cairn exits on SIGINT").isTrue();
            assertThat(p.exitValue()).as(Files.readString(e)).isEqualTo(130);
            for (ProcessHandle h : children) {
                assertThat(h.isAlive()).as("child " + h.pid() + " " + h.info().commandLine().orElse("") + " stopped").isFalse();
            }
            assertNothingLeft();
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }
}
