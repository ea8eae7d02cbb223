package dev.cairn.testing.boot;

import dev.cairn.testing.ToolOracle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Boots one EFI image in QEMU (q35, SMM) with OVMF's Secure Boot firmware and, by default, an
 * swtpm TPM 2.0, and returns what the serial console showed.
 *
 * <p>Each {@link #boot()} works in a fresh temporary directory: a copy of the variable store
 * (default: Debian's {@code OVMF_VARS_4M.snakeoil.fd}, Secure Boot on, the snakeoil certificate
 * in PK, KEK and db), an ESP directory served by QEMU's {@code fat:rw:} driver with the image as
 * {@code EFI/BOOT/BOOTX64.EFI}, and the swtpm state. QEMU runs with KVM when {@code /dev/kvm} is
 * usable and can run an SMM machine, else with TCG (about 20 s to the marker for a Debian kernel);
 * after one failed KVM start the JVM uses TCG only.
 *
 * <p>The run ends as soon as the outcome is known: the marker line appeared and QEMU exited
 * (the payload powers off), the firmware gave up ({@code BdsDxe: No bootable option or device
 * was found.}, printed after an image is refused with {@code Access Denied}), the kernel
 * panicked, or the timeout passed. QEMU and swtpm are killed and the directory deleted in every
 * case (also on JVM shutdown).
 *
 * <pre>{@code
 * BootResult r = SecureBootVm.of(uki).marker(BusyboxInitramfs.MARKER).boot();
 * assertThat(r.booted()).as(r.describe()).isTrue();
 * }</pre>
 */
public final class SecureBootVm {
    public static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    public static final Path SNAKEOIL_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd");
    /** The key of the snakeoil certificate enrolled in {@link #SNAKEOIL_VARS}; encrypted, passphrase {@value #SNAKEOIL_PASSPHRASE}. */
    public static final Path SNAKEOIL_KEY = Path.of("/usr/share/ovmf/PkKek-1-snakeoil.key");
    public static final Path SNAKEOIL_CERT = Path.of("/usr/share/ovmf/PkKek-1-snakeoil.pem");
    public static final String SNAKEOIL_PASSPHRASE = "snakeoil";

    /** OVMF's BdsDxe when every boot option failed: the end of a refused boot. */
    public static final String NO_BOOTABLE = "BdsDxe: No bootable option or device was found.";
    /** OVMF's BdsDxe refusing an image under Secure Boot (DxeImageVerificationLib returns EFI_SECURITY_VIOLATION / ACCESS_DENIED). */
    static final Pattern REFUSAL = Pattern.compile("^BdsDxe: failed to (load|start) (Boot[0-9A-F]{4}) \"(.*)\" from .*: (Access Denied|Security Violation)$");
    static final String PANIC = "Kernel panic - not syncing";
    private static final Pattern ESCAPES = Pattern.compile("\u001b\\[[0-9;=?]*[A-Za-z]|\r");
    /** Set once KVM turned out unusable for Secure Boot (no SMM under nested virtualisation): later runs go straight to TCG. */
    private static volatile boolean kvmUnusable;

    private final Path image;
    private Path vars = SNAKEOIL_VARS;
    private boolean tpm = true;
    private Duration timeout = Duration.ofMinutes(3);
    private String marker = BusyboxInitramfs.MARKER;
    private int memoryMiB = 1024;
    private Path keepIn;
    private final List<Path> disks = new ArrayList<>();

    private SecureBootVm(Path image) {
        this.image = image;
    }

    /** A VM that boots {@code image} (a UKI or any EFI application) as {@code EFI/BOOT/BOOTX64.EFI}. */
    public static SecureBootVm of(Path image) {
        return new SecureBootVm(image);
    }

    /** The variable store to start from (copied; never modified). Default: {@link #SNAKEOIL_VARS}. */
    public SecureBootVm vars(Path varsFile) {
        this.vars = varsFile;
        return this;
    }

    /** No TPM device. */
    public SecureBootVm withoutTpm() {
        this.tpm = false;
        return this;
    }

    /** Hard limit for the whole run (default 3 minutes); QEMU is killed after it. */
    public SecureBootVm timeout(Duration t) {
        this.timeout = t;
        return this;
    }

    /** The console line that means "booted" (default {@link BusyboxInitramfs#MARKER}). */
    public SecureBootVm marker(String line) {
        this.marker = line;
        return this;
    }

    public SecureBootVm memoryMiB(int mib) {
        this.memoryMiB = mib;
        return this;
    }

    /**
     * Attaches {@code rawImage} read-only as a virtio-blk disk: the first one is {@code /dev/vda} in the guest, the next
     * {@code /dev/vdb}, in call order. Debian 12's 6.1 kernel has {@code virtio_pci} and {@code virtio_blk} as modules
     * ({@code CONFIG_VIRTIO_PCI=m}, {@code CONFIG_VIRTIO_BLK=m}): the initramfs must load them (and {@code virtio},
     * {@code virtio_ring}, {@code virtio_pci_legacy_dev}, {@code virtio_pci_modern_dev}, which modprobe pulls in).
     */
    public SecureBootVm disk(Path rawImage) {
        if (!Files.isRegularFile(rawImage)) {
            throw new IllegalArgumentException("no disk image " + rawImage);
        }
        String s = rawImage.toAbsolutePath().toString();
        if (s.contains(",")) {
            throw new IllegalArgumentException("QEMU -drive file names cannot contain ',': " + s);
        }
        disks.add(rawImage.toAbsolutePath());
        return this;
    }

    /** Copy the console log, QEMU's stderr and the swtpm log into {@code dir} after the run (for debugging). */
    public SecureBootVm keepLogsIn(Path dir) {
        this.keepIn = dir;
        return this;
    }

    /**
     * Skips (locally) or fails (CI) unless QEMU, swtpm and the OVMF Secure Boot firmware are
     * installed ({@code qemu-system-x86}, {@code swtpm}, {@code ovmf}).
     */
    public static void requireInstalled() {
        ToolOracle.require("qemu-system-x86_64", "qemu-system-x86");
        ToolOracle.require("swtpm", "swtpm");
        ToolOracle.requireFile(OVMF_CODE, "ovmf");
        ToolOracle.requireFile(SNAKEOIL_VARS, "ovmf");
    }

    /** Boots once; see the class comment for when the run ends. */
    public BootResult boot() throws IOException, InterruptedException {
        requireInstalled();
        if (!Files.isRegularFile(image)) {
            throw new IllegalArgumentException("no image " + image);
        }
        if (!kvmUnusable && kvmAvailable()) {
            BootResult r = attempt("kvm");
            if (!isKvmFailure(r)) {
                return r;
            }
            kvmUnusable = true;
        }
        return attempt("tcg");
    }

    private static boolean kvmAvailable() {
        Path kvm = Path.of("/dev/kvm");
        return Files.isReadable(kvm) && Files.isWritable(kvm);
    }

    /**
     * QEMU ended before the firmware printed anything: KVM cannot run this machine. Seen under
     * nested virtualisation: "System Management Mode not supported by this hypervisor", or with
     * {@code -cpu host} "failed to set MSR 0x10a".
     */
    private static boolean isKvmFailure(BootResult r) {
        return r.outcome() == BootResult.Outcome.EXITED && r.console().isBlank();
    }

    private BootResult attempt(String accel) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("cairn-vm");
        Process[] processes = new Process[2]; // qemu, swtpm
        Thread hook = new Thread(() -> kill(processes), "cairn-vm-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Path esp = work.resolve("esp");
            Files.createDirectories(esp.resolve("EFI/BOOT"));
            Files.copy(image, esp.resolve("EFI/BOOT/BOOTX64.EFI"));
            Path varsCopy = work.resolve("vars.fd");
            Files.copy(vars, varsCopy, StandardCopyOption.REPLACE_EXISTING);
            varsCopy.toFile().setWritable(true);

            List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64",
                    "-machine", "q35,smm=on",
                    "-accel", accel,
                    "-m", Integer.toString(memoryMiB),
                    "-smp", "1",
                    "-global", "driver=cfi.pflash01,property=secure,value=on",
                    "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,unit=1,file=" + varsCopy,
                    "-drive", "file=fat:rw:" + esp + ",format=raw",
                    "-nographic", "-serial", "stdio", "-monitor", "none",
                    "-nic", "none",
                    "-no-reboot"));
            for (Path d : disks) {
                cmd.addAll(List.of("-drive", "file=" + d + ",format=raw,if=virtio,readonly=on"));
            }
            if (tpm) {
                Path state = Files.createDirectory(work.resolve("tpm"));
                Path sock = state.resolve("swtpm.sock");
                Process swtpm = new ProcessBuilder("swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                        "--ctrl", "type=unixio,path=" + sock, "--log", "file=" + work.resolve("swtpm.log"), "--terminate")
                        .redirectErrorStream(true).redirectOutput(work.resolve("swtpm.out").toFile()).start();
                processes[1] = swtpm;
                waitForSocket(swtpm, sock, work);
                cmd.addAll(List.of("-chardev", "socket,id=chrtpm,path=" + sock,
                        "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"));
            }

            Path stderr = work.resolve("qemu.err");
            long start = System.nanoTime();
            Process qemu = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
            processes[0] = qemu;
            Console console = new Console(qemu, marker, start);
            console.start();
            long deadline = start + timeout.toNanos();
            boolean timedOut = !console.stop.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (!timedOut && console.waitForExit) {
                // The payload powers off after the marker: give QEMU the rest of the time to exit by itself.
                while (qemu.isAlive() && !console.panicked && System.nanoTime() < deadline) {
                    qemu.waitFor(100, TimeUnit.MILLISECONDS);
                }
                timedOut = qemu.isAlive() && !console.panicked;
            }
            if (!timedOut && console.panicked) {
                Thread.sleep(1000); // let the panic message finish
            }
            kill(processes);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            console.join(5000);
            String text = console.text();
            String err = Files.exists(stderr) ? Files.readString(stderr, StandardCharsets.UTF_8) : "";
            BootResult.Outcome outcome = outcome(text, console.markerSeen(), console.panicked, timedOut);
            if (keepIn != null) {
                Files.createDirectories(keepIn);
                Files.writeString(keepIn.resolve("console.log"), text);
                Files.writeString(keepIn.resolve("qemu.err"), err);
                if (Files.exists(work.resolve("swtpm.log"))) {
                    Files.copy(work.resolve("swtpm.log"), keepIn.resolve("swtpm.log"), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return new BootResult(outcome, text, List.copyOf(cmd), accel, elapsed, console.untilMarker(), err);
        } finally {
            kill(processes);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
            deleteTree(work);
        }
    }

    /** How a run ended, from its console text and what the reader saw. */
    static BootResult.Outcome outcome(String text, boolean markerSeen, boolean panicked, boolean timedOut) {
        if (markerSeen) {
            return BootResult.Outcome.BOOTED;
        }
        boolean refused = text.lines().map(REFUSAL::matcher).anyMatch(m -> m.matches() && !m.group(3).equals("EFI Internal Shell"));
        if (refused) {
            return BootResult.Outcome.REFUSED;
        }
        if (text.contains(NO_BOOTABLE)) {
            return BootResult.Outcome.NO_BOOTABLE_DEVICE;
        }
        if (panicked) {
            return BootResult.Outcome.KERNEL_PANIC;
        }
        return timedOut ? BootResult.Outcome.TIMED_OUT : BootResult.Outcome.EXITED;
    }

    private static void waitForSocket(Process swtpm, Path sock, Path work) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(sock)) {
            if (!swtpm.isAlive()) {
                throw new IOException("swtpm exited with " + swtpm.exitValue() + ": "
                        + Files.readString(work.resolve("swtpm.out"), StandardCharsets.UTF_8));
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("swtpm did not create " + sock + " within 10 s");
            }
            Thread.sleep(20);
        }
    }

    private static void kill(Process[] processes) {
        for (Process p : processes) {
            if (p != null && p.isAlive()) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
        for (Process p : processes) {
            if (p != null) {
                try {
                    p.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /** Reads QEMU's stdout (the serial console) line by line and signals when the outcome is known. */
    private static final class Console extends Thread {
        private final Process qemu;
        private final String marker;
        private final long start;
        private final StringBuilder text = new StringBuilder();
        final CountDownLatch stop = new CountDownLatch(1);
        private volatile long markerAt = -1;
        volatile boolean waitForExit;
        volatile boolean panicked;

        Console(Process qemu, String marker, long start) {
            super("cairn-vm-console");
            setDaemon(true);
            this.qemu = qemu;
            this.marker = marker;
            this.start = start;
        }

        @Override
        public void run() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.ISO_8859_1))) {
                String raw;
                while ((raw = r.readLine()) != null) {
                    String line = ESCAPES.matcher(raw).replaceAll("");
                    synchronized (text) {
                        text.append(line).append('\n');
                    }
                    if (markerAt < 0 && line.strip().equals(marker)) {
                        markerAt = System.nanoTime();
                        waitForExit = true;
                        stop.countDown();
                    } else if (markerAt < 0 && line.contains(NO_BOOTABLE)) {
                        stop.countDown();
                    } else if (line.contains(PANIC)) {
                        panicked = true;
                        stop.countDown();
                    }
                }
            } catch (IOException e) {
                // QEMU killed
            } finally {
                stop.countDown();
            }
        }

        String text() {
            synchronized (text) {
                return text.toString();
            }
        }

        boolean markerSeen() {
            return markerAt >= 0;
        }

        Optional<Duration> untilMarker() {
            return markerAt < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(markerAt - start));
        }
    }
}
