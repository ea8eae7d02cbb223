package dev.cairn.pipeline.boot;

import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One boot of {@link SecureBootMachine}. Make one with {@link #builder}.
 *
 * @param target          what to boot
 * @param ovmfCode        OVMF's Secure Boot firmware (default {@link #DEFAULT_OVMF_CODE}, Debian's {@code ovmf})
 * @param ovmfVars        the variable store to start from, copied and never modified; null: the target's
 *                        {@link BootTarget#devVars() development store}
 * @param tpm             attach a TPM 2.0 (swtpm)
 * @param memoryMiB       guest memory
 * @param timeout         hard limit for the run, after which QEMU is stopped; null: none
 * @param expect          text whose appearance on the console (within one line) ends the run with
 *                        {@link BootResult.Outcome#BOOTED}; null: run until the guest powers off
 * @param waitForPowerOff after the expected text, keep the guest running until it powers off by itself (or the
 *                        timeout), to see what it prints next; false: stop QEMU at once
 * @param disks           more disks after the target's, attached with QEMU's {@code snapshot=on}: the guest may
 *                        write, its writes are discarded and the files never change
 * @param console         where the serial console's bytes go as they arrive (null: nowhere; the text is in the result)
 * @param terminalInput   QEMU reads the serial console's input from this process's standard input (for a terminal:
 *                        typed keys go to the guest, Ctrl-C still interrupts); false: the guest gets no input
 * @param listener        the command line as QEMU starts, and notes
 * @param searchPath      where to look for {@code qemu-system-x86_64} and {@code swtpm}: directories separated by
 *                        {@code :} (a face passes its {@code PATH}; default {@link #DEFAULT_SEARCH_PATH})
 */
public record BootRequest(BootTarget target, Path ovmfCode, Path ovmfVars, boolean tpm, int memoryMiB, Duration timeout,
        String expect, boolean waitForPowerOff, List<Path> disks, OutputStream console, boolean terminalInput,
        BootListener listener, String searchPath) {
    /** Debian's OVMF build with Secure Boot and SMM (package {@code ovmf}), 4 MiB flash layout. */
    public static final Path DEFAULT_OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    public static final int DEFAULT_MEMORY_MIB = 1024;
    /** Debian's default {@code PATH}. */
    public static final String DEFAULT_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public BootRequest {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(ovmfCode, "ovmfCode");
        if (memoryMiB < 64) {
            throw new IllegalArgumentException("memory must be at least 64 MiB, not " + memoryMiB);
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive, not " + timeout);
        }
        if (expect != null && (expect.isEmpty() || expect.contains("\n") || expect.contains("\r"))) {
            throw new IllegalArgumentException("the expected text must be one non-empty line");
        }
        disks = List.copyOf(disks);
        listener = listener == null ? BootListener.NONE : listener;
        searchPath = searchPath == null ? DEFAULT_SEARCH_PATH : searchPath;
    }

    public static Builder builder(BootTarget target) {
        return new Builder(target);
    }

    /** A mutable builder for {@link BootRequest}; every setting but the target is optional. */
    public static final class Builder {
        private final BootTarget target;
        private Path ovmfCode = DEFAULT_OVMF_CODE;
        private Path ovmfVars;
        private boolean tpm = true;
        private int memoryMiB = DEFAULT_MEMORY_MIB;
        private Duration timeout;
        private String expect;
        private boolean waitForPowerOff;
        private final List<Path> disks = new ArrayList<>();
        private OutputStream console;
        private boolean terminalInput;
        private BootListener listener = BootListener.NONE;
        private String searchPath = DEFAULT_SEARCH_PATH;

        private Builder(BootTarget target) {
            this.target = target;
        }

        public Builder ovmfCode(Path file) {
            this.ovmfCode = file;
            return this;
        }

        public Builder ovmfVars(Path file) {
            this.ovmfVars = file;
            return this;
        }

        public Builder tpm(boolean on) {
            this.tpm = on;
            return this;
        }

        public Builder memoryMiB(int mib) {
            this.memoryMiB = mib;
            return this;
        }

        public Builder timeout(Duration limit) {
            this.timeout = limit;
            return this;
        }

        public Builder expect(String text) {
            this.expect = text;
            return this;
        }

        public Builder waitForPowerOff(boolean wait) {
            this.waitForPowerOff = wait;
            return this;
        }

        public Builder disk(Path file) {
            this.disks.add(file);
            return this;
        }

        public Builder console(OutputStream out) {
            this.console = out;
            return this;
        }

        public Builder terminalInput(boolean on) {
            this.terminalInput = on;
            return this;
        }

        public Builder listener(BootListener l) {
            this.listener = l;
            return this;
        }

        public Builder searchPath(String path) {
            this.searchPath = path;
            return this;
        }

        public BootRequest build() {
            return new BootRequest(target, ovmfCode, ovmfVars, tpm, memoryMiB, timeout, expect, waitForPowerOff, disks, console,
                    terminalInput, listener, searchPath);
        }
    }
}
