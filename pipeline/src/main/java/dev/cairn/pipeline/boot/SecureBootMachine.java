package dev.cairn.pipeline.boot;

import dev.cairn.pipeline.PipelineException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
 * Boots a {@link BootTarget} in QEMU (q35 with SMM) under OVMF's Secure Boot firmware, with an swtpm TPM 2.0, and
 * reports what the serial console showed: {@code cairn boot}, and the boot tests.
 *
 * <p>Each boot works in a fresh temporary directory: a copy of the variable store (the original is never written), for
 * a UKI an ESP directory served by QEMU's {@code fat:rw:} driver with the UKI as {@code EFI/BOOT/BOOTX64.EFI}, the
 * swtpm state and socket, and QEMU's own temporary files (its {@code TMPDIR}: the vvfat and {@code snapshot=on}
 * overlays). Disks are never modified: a disk image and {@link BootRequest#disks()} are attached with
 * {@code snapshot=on} (the guest's writes go to a discarded overlay), a UKI's data disks read-only.
 *
 * <p><b>Accelerator.</b> KVM when {@code /dev/kvm} is readable and writable, else TCG. OVMF's Secure Boot build needs
 * SMM, which KVM cannot provide everywhere (nested virtualisation: QEMU exits at once with "System Management Mode
 * not supported by this hypervisor"). When QEMU under KVM exits before the console printed anything, the boot is
 * repeated under TCG and this process uses TCG from then on; with TCG a Debian kernel takes about 20 s to user space
 * (a minute and more on a busy machine).
 *
 * <p><b>End of a run.</b> As soon as the outcome is known: the expected text appeared (and, with
 * {@link BootRequest#waitForPowerOff()}, QEMU then exited), the firmware gave up ({@value #NO_BOOTABLE}, printed after
 * an image is refused with {@code Access Denied}), the kernel panicked, QEMU exited, or the timeout passed.
 *
 * <p><b>Clean-up.</b> On every path, including an exception, an interrupt and JVM shutdown (Ctrl-C: a shutdown hook),
 * QEMU, swtpm and their descendants are stopped (SIGTERM, SIGKILL after {@value #GRACE_SECONDS} s, so that QEMU can
 * restore a terminal it switched to raw mode) and the temporary directory is deleted.
 *
 * <p>Missing tools are {@link PipelineException}s ({@link PipelineException.Kind#BAD_INPUT}) naming the program and its
 * Debian package: {@code qemu-system-x86_64} ({@value #QEMU_PACKAGE}), {@code swtpm} ({@value #SWTPM_PACKAGE}), the
 * firmware ({@value #OVMF_PACKAGE}).
 *
 * <pre>{@code
 * BootResult r = SecureBootMachine.boot(BootRequest.builder(BootTarget.resolve(Path.of("out")))
 *         .expect("CAIRN-BOOT-DONE").timeout(Duration.ofMinutes(5)).console(System.out).build());
 * }</pre>
 */
public final class SecureBootMachine {
    public static final String QEMU = "qemu-system-x86_64";
    public static final String QEMU_PACKAGE = "qemu-system-x86";
    public static final String SWTPM = "swtpm";
    public static final String SWTPM_PACKAGE = "swtpm";
    public static final String OVMF_PACKAGE = "ovmf";
    /** OVMF's BdsDxe when every boot option failed: the end of a refused boot. */
    public static final String NO_BOOTABLE = "BdsDxe: No bootable option or device was found.";
    /** The kernel's panic line. */
    public static final String PANIC = "Kernel panic - not syncing";
    /** OVMF's BdsDxe refusing an image under Secure Boot (DxeImageVerificationLib returns EFI_SECURITY_VIOLATION / ACCESS_DENIED). */
    static final Pattern REFUSAL = Pattern.compile(
            "^BdsDxe: failed to (load|start) (Boot[0-9A-F]{4}) \"(.*)\" from .*: (Access Denied|Security Violation)$");
    static final int GRACE_SECONDS = 3;
    /** The console text a result keeps: about the last this many characters. */
    static final int MAX_TEXT = 16 << 20;
    private static final Pattern ESCAPES = Pattern.compile("\u001b\\[[0-9;=?]*[A-Za-z]|\r");
    private static final Path KVM = Path.of("/dev/kvm");
    /** Set once KVM could not run the machine: later boots in this process go straight to TCG. */
    private static volatile boolean kvmUnusable;

    private SecureBootMachine() {
    }

    /** Boots once; see the class comment for when the run ends. Input files that are missing are {@link NoSuchFileException}s. */
    public static BootResult boot(BootRequest request) throws IOException, InterruptedException {
        Inputs in = check(request);
        if (!kvmUnusable && Files.isReadable(KVM) && Files.isWritable(KVM)) {
            BootResult r = attempt(request, in, "kvm");
            if (!failedToStart(r)) {
                return r;
            }
            kvmUnusable = true;
            request.listener().info("KVM cannot run this machine (" + lastLine(r.qemuStderr()) + "): using TCG, which is slower");
        }
        BootResult r = attempt(request, in, "tcg");
        if (failedToStart(r)) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, QEMU + " did not start (status " + r.qemuExit() + "): "
                    + String.join(" / ", r.qemuStderr().lines().filter(l -> !l.isBlank()).toList()));
        }
        return r;
    }

    /** The programs and files a boot needs, checked before anything starts. */
    record Inputs(Path qemu, Path swtpm, Path vars) {
    }

    static Inputs check(BootRequest r) throws IOException {
        Path qemu = find(QEMU, QEMU_PACKAGE, r.searchPath(), "");
        Path swtpm = r.tpm() ? find(SWTPM, SWTPM_PACKAGE, r.searchPath(), " (or boot without a TPM)") : null;
        if (!Files.isRegularFile(r.ovmfCode())) {
            if (r.ovmfCode().equals(BootRequest.DEFAULT_OVMF_CODE)) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, "OVMF's Secure Boot firmware " + r.ovmfCode()
                        + " is missing: install Debian package " + OVMF_PACKAGE);
            }
            throw new NoSuchFileException(r.ovmfCode().toString());
        }
        Path vars = r.ovmfVars() != null ? r.ovmfVars() : r.target().devVars();
        if (vars == null) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, "no OVMF variable store: " + r.target().image()
                    + " is not in an image set with " + BootTarget.DEV_VARS + ", and none was given (--ovmf-vars FILE)");
        }
        List<Path> files = new ArrayList<>(List.of(vars, r.target().image()));
        files.addAll(r.target().dataDisks());
        files.addAll(r.disks());
        for (Path f : files) {
            boolean espDir = f.equals(r.target().image()) && r.target().kind() == BootTarget.Kind.ESP_DIRECTORY;
            if (espDir ? !Files.isDirectory(f) : !Files.isRegularFile(f)) {
                throw new NoSuchFileException(f.toString());
            }
        }
        return new Inputs(qemu, swtpm, vars);
    }

    /** {@code name} in one of {@code searchPath}'s directories, or a BAD_INPUT naming the Debian package. */
    static Path find(String name, String debianPackage, String searchPath, String alternative) {
        for (String d : searchPath.split(":")) {
            if (!d.isEmpty()) {
                Path p = Path.of(d, name);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        throw new PipelineException(PipelineException.Kind.BAD_INPUT, name + " not found (searched " + searchPath
                + "): install Debian package " + debianPackage + alternative);
    }

    /** QEMU exited before the console printed anything: it could not run the machine (KVM without SMM, a bad option). */
    private static boolean failedToStart(BootResult r) {
        return r.outcome() == BootResult.Outcome.EXITED && r.console().isBlank();
    }

    /**
     * The QEMU command line. {@code esp} is the ESP directory (a UKI target), {@code tpmSocket} swtpm's control socket
     * (or null).
     */
    static List<String> command(Path qemu, String accelerator, BootRequest r, Path varsCopy, Path esp, Path tpmSocket) {
        List<String> cmd = new ArrayList<>(List.of(qemu.toString(),
                "-machine", "q35,smm=on",
                "-accel", accelerator,
                "-m", Integer.toString(r.memoryMiB()),
                "-smp", "1",
                "-global", "driver=cfi.pflash01,property=secure,value=on",
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + option(r.ovmfCode()),
                "-drive", "if=pflash,format=raw,unit=1,file=" + option(varsCopy)));
        if (r.target().kind() == BootTarget.Kind.DISK_IMAGE) {
            // a fixed VHD is the raw disk and a 512-byte footer: QEMU's vpc driver shows the disk without it
            cmd.addAll(List.of("-drive", "if=virtio,format=" + diskFormat(r.target().image()) + ",file=" + option(r.target().image())
                    + ",snapshot=on"));
        } else {
            cmd.addAll(List.of("-drive", "file=fat:rw:" + option(esp) + ",format=raw"));
        }
        cmd.addAll(List.of("-nographic", "-serial", "stdio", "-monitor", "none", "-nic", "none", "-no-reboot"));
        for (Path d : r.target().dataDisks()) {
            cmd.addAll(List.of("-drive", "file=" + option(d) + ",format=raw,if=virtio,readonly=on"));
        }
        for (Path d : r.disks()) {
            cmd.addAll(List.of("-drive", "file=" + option(d) + ",format=" + diskFormat(d) + ",if=virtio,snapshot=on"));
        }
        if (tpmSocket != null) {
            cmd.addAll(List.of("-chardev", "socket,id=chrtpm,path=" + option(tpmSocket),
                    "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"));
        }
        return cmd;
    }

    /** Copies a directory tree of regular files (symbolic links are refused: the ESP is FAT). */
    static Path copyTree(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, from + ": not a directory (an ESP tree was expected)");
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.sorted().toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(t);
                } else if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.copy(p, t);
                } else {
                    throw new PipelineException(PipelineException.Kind.BAD_INPUT, p + ": not a regular file or directory; an ESP holds only those");
                }
            }
        }
        return to;
    }

    /** An absolute path as a QEMU option value: a comma is doubled. */
    static String option(Path p) {
        return p.toAbsolutePath().toString().replace(",", ",,");
    }

    private static BootResult attempt(BootRequest r, Inputs in, String accelerator) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("cairn-boot-");
        Session session = new Session(work);
        Thread hook = new Thread(session::close, "cairn-boot-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Path esp = null;
            if (r.target().kind() == BootTarget.Kind.UKI) {
                esp = work.resolve("esp");
                Files.createDirectories(esp.resolve("EFI/BOOT"));
                Files.copy(r.target().image(), esp.resolve("EFI/BOOT/BOOTX64.EFI"));
            } else if (r.target().kind() == BootTarget.Kind.ESP_DIRECTORY) {
                // a copy: QEMU's fat:rw driver writes back what the guest writes (sd-boot's random seed, ...)
                esp = copyTree(r.target().image(), work.resolve("esp"));
            }
            Path varsCopy = work.resolve("OVMF_VARS.fd");
            Files.copy(in.vars(), varsCopy, StandardCopyOption.REPLACE_EXISTING);
            varsCopy.toFile().setWritable(true, true);
            Path socket = null;
            if (in.swtpm() != null) {
                Path state = Files.createDirectory(work.resolve("tpm"));
                socket = state.resolve("swtpm.sock");
                Process swtpm = session.adopt(new ProcessBuilder(in.swtpm().toString(), "socket", "--tpm2", "--tpmstate", "dir=" + state,
                        "--ctrl", "type=unixio,path=" + socket, "--log", "file=" + work.resolve("swtpm.log"), "--terminate")
                        .redirectErrorStream(true).redirectOutput(work.resolve("swtpm.out").toFile()).start());
                waitForSocket(swtpm, socket, work);
            }
            List<String> cmd = command(in.qemu(), accelerator, r, varsCopy, esp, socket);
            r.listener().started(accelerator, cmd);
            Path stderr = work.resolve("qemu.err");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(stderr.toFile());
            pb.environment().put("TMPDIR", work.toString());
            if (r.terminalInput()) {
                pb.redirectInput(ProcessBuilder.Redirect.INHERIT);
            }
            long start = System.nanoTime();
            Process qemu = session.adopt(pb.start());
            Console console = new Console(qemu.getInputStream(), r.console(), r.expect(), start);
            console.start();

            long deadline = r.timeout() == null ? Long.MAX_VALUE : start + r.timeout().toNanos();
            boolean timedOut = !console.awaitDecision(deadline);
            if (!timedOut && console.expectedSeen() && r.waitForPowerOff()) {
                // give the guest the rest of the time to power off by itself
                while (qemu.isAlive() && !console.panicked && System.nanoTime() < deadline) {
                    qemu.waitFor(100, TimeUnit.MILLISECONDS);
                }
                timedOut = qemu.isAlive() && !console.panicked;
            }
            if (!timedOut && console.panicked && qemu.isAlive()) {
                qemu.waitFor(1, TimeUnit.SECONDS); // let the panic message finish (panic=-1: QEMU exits by itself)
            }
            if (console.eof) {
                qemu.waitFor(5, TimeUnit.SECONDS); // its output is closed: it is exiting
            }
            int exit = qemu.isAlive() ? -1 : qemu.exitValue();
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            session.stopProcesses();
            console.join(5000);
            String text = console.text();
            String err = Files.exists(stderr) ? Files.readString(stderr, StandardCharsets.UTF_8) : "";
            BootResult.Outcome outcome = outcome(text, console.expectedSeen(), console.panicked, timedOut, exit);
            return new BootResult(outcome, r.expect(), text, cmd, accelerator, elapsed, console.untilExpected(), exit, err);
        } finally {
            session.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    /** How a run ended, from its console text and what the reader saw. */
    static BootResult.Outcome outcome(String text, boolean expectedSeen, boolean panicked, boolean timedOut, int qemuExit) {
        if (expectedSeen) {
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
        if (timedOut) {
            return BootResult.Outcome.TIMED_OUT;
        }
        return qemuExit == 0 ? BootResult.Outcome.POWERED_OFF : BootResult.Outcome.EXITED;
    }

    private static void waitForSocket(Process swtpm, Path sock, Path work) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(sock)) {
            if (!swtpm.isAlive()) {
                throw new IOException(SWTPM + " exited with " + swtpm.exitValue() + ": "
                        + Files.readString(work.resolve("swtpm.out"), StandardCharsets.UTF_8).strip());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(SWTPM + " did not create " + sock + " within 10 s");
            }
            Thread.sleep(20);
        }
    }

    private static String lastLine(String s) {
        return s.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("no message").strip();
    }

    /**
     * The processes and the directory of one boot. {@link #close} (idempotent, also the shutdown hook) stops every
     * process and deletes the directory; a process adopted after that is stopped at once.
     */
    static final class Session {
        private final Path work;
        private final List<Process> processes = new ArrayList<>();
        private boolean closed;

        Session(Path work) {
            this.work = work;
        }

        synchronized Process adopt(Process p) {
            processes.add(p);
            if (closed) {
                stop(List.of(p));
                throw new IllegalStateException("shutting down");
            }
            return p;
        }

        void stopProcesses() {
            List<Process> ps;
            synchronized (this) {
                ps = List.copyOf(processes);
            }
            stop(ps);
        }

        synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            stop(processes);
            deleteTree(work);
        }

        /** SIGTERM to each process and its descendants, SIGKILL to what is left after {@value #GRACE_SECONDS} s. */
        static void stop(List<Process> ps) {
            List<ProcessHandle> handles = new ArrayList<>();
            for (Process p : ps) {
                p.descendants().forEach(handles::add);
                handles.add(p.toHandle());
            }
            handles.removeIf(h -> !h.isAlive());
            handles.forEach(ProcessHandle::destroy);
            if (!awaitExit(handles, TimeUnit.SECONDS.toNanos(GRACE_SECONDS))) {
                handles.forEach(ProcessHandle::destroyForcibly);
                awaitExit(handles, TimeUnit.SECONDS.toNanos(5));
            }
            for (Process p : ps) {
                try {
                    p.waitFor(1, TimeUnit.SECONDS); // reap
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        private static boolean awaitExit(List<ProcessHandle> handles, long nanos) {
            long deadline = System.nanoTime() + nanos;
            while (handles.stream().anyMatch(ProcessHandle::isAlive)) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }

        private static void deleteTree(Path dir) {
            if (!Files.exists(dir)) {
                return;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        // best effort: the rest still goes
                    }
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                // a file vanished while walking: nothing left to do
            }
        }
    }

    /**
     * Reads QEMU's standard output (the serial console) as it comes: copies the bytes to the caller's stream, keeps the
     * text line by line, and signals when the outcome is known (expected text, firmware giving up, panic, end).
     */
    static final class Console extends Thread {
        private static final int MAX_LINE = 64 << 10;
        private final InputStream in;
        private OutputStream sink;
        private final String expect;
        private final long start;
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final CountDownLatch decided = new CountDownLatch(1);
        private volatile long expectedAt = -1;
        volatile boolean panicked;
        volatile boolean eof;

        Console(InputStream in, OutputStream sink, String expect, long start) {
            super("cairn-boot-console");
            setDaemon(true);
            this.in = in;
            this.sink = sink;
            this.expect = expect;
            this.start = start;
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    forward(buf, n);
                    accept(buf, 0, n);
                }
            } catch (IOException e) {
                // QEMU stopped
            } finally {
                if (line.size() > 0) {
                    endLine();
                }
                eof = true;
                decided.countDown();
            }
        }

        private void forward(byte[] buf, int n) {
            if (sink != null) {
                try {
                    sink.write(buf, 0, n);
                    sink.flush();
                } catch (IOException e) {
                    sink = null; // the reader went away (a closed pipe): keep reading, or QEMU blocks
                }
            }
        }

        /** Feeds console bytes: lines are checked when they end, and a partial line for the expected text (a prompt). */
        void accept(byte[] buf, int off, int len) {
            for (int i = off; i < off + len; i++) {
                if (buf[i] == '\n') {
                    endLine();
                } else {
                    line.write(buf[i]);
                    if (line.size() >= MAX_LINE) {
                        endLine();
                    }
                }
            }
            if (expect != null && expectedAt < 0 && line.size() >= expect.length() && clean(line.toByteArray()).contains(expect)) {
                expectedAt = System.nanoTime();
                decided.countDown();
            }
        }

        private void endLine() {
            String l = clean(line.toByteArray());
            line.reset();
            synchronized (text) {
                text.append(l).append('\n');
                if (text.length() > MAX_TEXT) {
                    int cut = text.indexOf("\n", text.length() - MAX_TEXT / 2);
                    text.delete(0, cut < 0 ? text.length() - MAX_TEXT / 2 : cut + 1);
                }
            }
            if (expectedAt < 0 && expect != null && l.contains(expect)) {
                expectedAt = System.nanoTime();
                decided.countDown();
            } else if (expectedAt < 0 && l.contains(NO_BOOTABLE)) {
                decided.countDown();
            } else if (l.contains(PANIC)) {
                panicked = true;
                decided.countDown();
            }
        }

        private static String clean(byte[] raw) {
            return ESCAPES.matcher(new String(raw, StandardCharsets.UTF_8)).replaceAll("");
        }

        /** Waits for the outcome until {@code deadline} ({@link System#nanoTime()}); false on timeout. */
        boolean awaitDecision(long deadline) throws InterruptedException {
            if (deadline == Long.MAX_VALUE) {
                decided.await();
                return true;
            }
            return decided.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }

        String text() {
            synchronized (text) {
                return text.toString();
            }
        }

        boolean expectedSeen() {
            return expectedAt >= 0;
        }

        Optional<Duration> untilExpected() {
            return expectedAt < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(expectedAt - start));
        }
    }

    /** {@code vpc} for a fixed VHD (its footer's cookie), else {@code raw}. */
    static String diskFormat(Path image) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.READ)) {
            return dev.cairn.pipeline.disk.DiskImages.rawSize(ch) != ch.size() ? "vpc" : "raw";
        } catch (IOException e) {
            return "raw"; // unreadable: QEMU names the problem when it opens it
        }
    }
}
