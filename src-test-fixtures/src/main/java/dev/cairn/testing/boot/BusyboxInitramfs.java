package dev.cairn.testing.boot;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.opentest4j.AssertionFailedError;

/**
 * The directory tree of a minimal initramfs: Debian's static busybox ({@code busybox-static}) with
 * applet symlinks, and an {@code /init} that mounts proc, sysfs, devtmpfs and efivarfs, prints
 * {@value #MARKER}, the Secure Boot state, PCR 11 (and 7 and 12; SHA-256 bank, from
 * {@code /sys/class/tpm/tpm0/pcr-sha256/11}) and {@code /proc/cmdline}, then powers off.
 *
 * <p>The Debian 12 kernel (6.1) has {@code tpm_tis} and {@code tpm_crb} built in
 * ({@code CONFIG_TCG_TIS=y}, {@code CONFIG_TCG_CRB=y}), so PCR 11 needs no module; efivarfs is a
 * module ({@code CONFIG_EFIVAR_FS=m}, uncompressed {@code .ko} in Debian 12), copied in by
 * {@link #writeTree(Path, Path)} to read the SecureBoot and StubPcrKernelImage variables. Pack the tree
 * with any newc writer (cairn's {@code InitrdWriter}); every permission is set explicitly, so
 * the umask never shows.
 */
public final class BusyboxInitramfs {
    /** Static busybox from Debian's {@code busybox-static}. */
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    /** First line {@code /init} prints: the initramfs is running. */
    public static final String MARKER = "CAIRN-BOOT-OK";
    /** {@code CAIRN-SECUREBOOT=01} when the firmware booted with Secure Boot enabled, {@code 00} when not (the variable without its attribute bytes). */
    public static final String SECURE_BOOT_PREFIX = "CAIRN-SECUREBOOT=";
    /** {@code PCR11-SHA256=<64 upper-case hex>} or {@code PCR11-SHA256=unavailable} without a TPM. */
    public static final String PCR11_PREFIX = "PCR11-SHA256=";
    /** {@code PCR7-SHA256=<64 upper-case hex>}, printed only when the guest has a TPM. */
    public static final String PCR7_PREFIX = "PCR7-SHA256=";
    /** {@code PCR12-SHA256=<64 upper-case hex>}, printed only when the guest has a TPM. */
    public static final String PCR12_PREFIX = "PCR12-SHA256=";
    /** {@code CAIRN-CMDLINE=<contents of /proc/cmdline>}. */
    public static final String CMDLINE_PREFIX = "CAIRN-CMDLINE=";
    /** Last line before {@code poweroff -f}. */
    public static final String DONE = "CAIRN-BOOT-DONE";

    /**
     * {@code CAIRN-STUBPCR=<hex>}: the {@code StubPcrKernelImage} EFI variable systemd-stub sets, without its 4 attribute
     * bytes; the 252 stub stores the PCR index as a UTF-16LE string, so PCR 11 reads {@code 310031000000}.
     */
    public static final String STUB_PCR_PREFIX = "CAIRN-STUBPCR=";

    static final List<String> APPLETS = List.of("cat", "echo", "insmod", "ls", "mkdir", "mount", "od", "poweroff", "sh", "sleep", "tr");
    /** Modules the tests need that Debian's kernel does not build in: efivarfs ({@code CONFIG_EFIVAR_FS=m}). */
    static final List<String> MODULES = List.of("kernel/fs/efivarfs/efivarfs.ko");
    private static final String EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
    private static final String LOADER_VENDOR = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

    private BusyboxInitramfs() {
    }

    /** The {@code /init} script. */
    public static String initScript() {
        String pcr = "/sys/class/tpm/tpm0/pcr-sha256/11";
        String sb = "/sys/firmware/efi/efivars/SecureBoot-" + EFI_GLOBAL;
        String stubPcr = "/sys/firmware/efi/efivars/StubPcrKernelImage-" + LOADER_VENDOR;
        return String.join("\n",
                "#!/bin/sh",
                "# cairn boot test: report what the tests assert, then power off.",
                "export PATH=/bin",
                "mount -t proc proc /proc",
                "mount -t sysfs sysfs /sys",
                "mount -t devtmpfs devtmpfs /dev",
                "for m in /lib/modules/*.ko; do [ -e \"$m\" ] && insmod \"$m\"; done",
                "mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null",
                "echo " + MARKER,
                "if [ -r " + sb + " ]; then",
                "  v=$(od -An -tx1 " + sb + " | tr -d ' \\n'); echo \"" + SECURE_BOOT_PREFIX + "${v#????????}\"",
                "else",
                "  echo " + SECURE_BOOT_PREFIX + "unknown",
                "fi",
                "if [ -r " + stubPcr + " ]; then",
                "  v=$(od -An -tx1 " + stubPcr + " | tr -d ' \\n'); echo \"" + STUB_PCR_PREFIX + "${v#????????}\"",
                "else",
                "  echo " + STUB_PCR_PREFIX + "unknown",
                "fi",
                "i=0",
                "while [ ! -r " + pcr + " ] && [ -e /sys/class/tpm/tpm0 ] && [ $i -lt 5 ]; do sleep 1; i=$((i+1)); done",
                "if [ -r " + pcr + " ]; then",
                "  echo \"" + PCR11_PREFIX + "$(cat " + pcr + ")\"",
                "else",
                "  echo " + PCR11_PREFIX + "unavailable",
                "fi",
                "if [ -r /sys/class/tpm/tpm0/pcr-sha256/7 ]; then",
                "  echo \"" + PCR7_PREFIX + "$(cat /sys/class/tpm/tpm0/pcr-sha256/7)\"",
                "fi",
                "if [ -r /sys/class/tpm/tpm0/pcr-sha256/12 ]; then",
                "  echo \"" + PCR12_PREFIX + "$(cat /sys/class/tpm/tpm0/pcr-sha256/12)\"",
                "fi",
                "echo \"" + CMDLINE_PREFIX + "$(cat /proc/cmdline)\"",
                "echo " + DONE,
                "poweroff -f",
                "");
    }

    /**
     * Writes the tree into {@code dir} (created if needed, must be empty): {@code bin/busybox},
     * {@code bin/<applet> -> busybox}, {@code init}, and empty {@code dev proc sys}. Skips locally
     * (fails on CI) without a static {@code /bin/busybox}.
     */
    public static Path writeTree(Path dir) {
        return writeTree(dir, null);
    }

    /**
     * Like {@link #writeTree(Path)}, plus the kernel modules the tests need from
     * {@code modulesDir} (e.g. {@code /lib/modules/6.1.0-56-amd64}) as {@code lib/modules/*.ko},
     * which {@code /init} loads (Debian signs its modules, so lockdown accepts them). Without
     * them {@value #SECURE_BOOT_PREFIX} and {@value #STUB_PCR_PREFIX} print {@code unknown}.
     */
    public static Path writeTree(Path dir, Path modulesDir) {
        Path busybox = staticBusybox();
        try {
            Files.createDirectories(dir);
            Path bin = Files.createDirectory(dir.resolve("bin"));
            Files.copy(busybox, bin.resolve("busybox"));
            for (String a : APPLETS) {
                Files.createSymbolicLink(bin.resolve(a), Path.of("busybox"));
            }
            for (String d : List.of("dev", "proc", "sys")) {
                Files.createDirectory(dir.resolve(d));
            }
            Files.writeString(dir.resolve("init"), initScript(), StandardCharsets.UTF_8);
            if (modulesDir != null) {
                Path lib = Files.createDirectories(dir.resolve("lib/modules"));
                Files.setPosixFilePermissions(dir.resolve("lib"), PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rwxr-xr-x"));
                for (String m : MODULES) {
                    Path ko = ToolOracle.requireFile(modulesDir.resolve(m), "linux-image-amd64");
                    Path target = lib.resolve(ko.getFileName());
                    Files.copy(ko, target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
            for (Path p : List.of(dir, bin, dir.resolve("dev"), dir.resolve("proc"), dir.resolve("sys"), bin.resolve("busybox"),
                    dir.resolve("init"))) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #BUSYBOX}, checked to be the static build (skip locally, fail on CI otherwise). */
    static Path staticBusybox() {
        Path busybox = ToolOracle.requireFile(BUSYBOX, "busybox-static");
        if (interpreter(busybox).isPresent()) {
            String msg = BUSYBOX + " is dynamically linked (" + interpreter(busybox).get()
                    + "): install Debian package busybox-static, which replaces it with the static build";
            if (ToolOracle.isCi()) {
                throw new AssertionFailedError(msg);
            }
            org.junit.jupiter.api.Assumptions.abort(msg);
        }
        return busybox;
    }

    /**
     * Copies the static busybox to {@code root/bin/busybox} (mode 0755, {@code bin} created with 0755) and links each
     * of {@code applets} to it as {@code root/bin/<applet>}.
     */
    public static void installBusybox(Path root, List<String> applets) {
        Path busybox = staticBusybox();
        try {
            Path bin = Files.createDirectories(root.resolve("bin"));
            Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path target = bin.resolve("busybox");
            Files.copy(busybox, target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String a : applets) {
                Files.createSymbolicLink(bin.resolve(a), Path.of("busybox"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The ELF program interpreter ({@code PT_INTERP}) of a 64-bit little-endian ELF file, or empty for a static one. */
    static Optional<String> interpreter(Path elf) {
        try (FileChannel ch = FileChannel.open(elf)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            if (h.getInt(0) != 0x464c457f || h.get(4) != 2) {
                throw new AssertionFailedError(elf + " is not a 64-bit ELF file");
            }
            long phoff = h.getLong(32);
            int phentsize = Short.toUnsignedInt(h.getShort(54));
            int phnum = Short.toUnsignedInt(h.getShort(56));
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = ByteBuffer.allocate(phentsize).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(ph, phoff + (long) i * phentsize);
                if (ph.getInt(0) == 3) { // PT_INTERP
                    ByteBuffer s = ByteBuffer.allocate(Math.toIntExact(ph.getLong(32)));
                    ch.read(s, ph.getLong(8));
                    return Optional.of(new String(s.array(), StandardCharsets.US_ASCII).replace("\0", ""));
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
