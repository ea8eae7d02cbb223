package dev.cairn.cli.boot;

import dev.cairn.cli.Environment;
import dev.cairn.pipeline.PipelineException;
import dev.cairn.pipeline.boot.BootListener;
import dev.cairn.pipeline.boot.BootRequest;
import dev.cairn.pipeline.boot.BootResult;
import dev.cairn.pipeline.boot.BootTarget;
import dev.cairn.pipeline.boot.SecureBootMachine;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn boot TARGET}: an image set in QEMU with Secure Boot on (the face of {@link SecureBootMachine}). */
@Command(name = "boot", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Boot an image set in QEMU with Secure Boot on and a software TPM.",
                "QEMU (q35) with OVMF in Secure Boot mode and an swtpm TPM 2.0; the serial console is this terminal. "
                        + "TARGET: a build's output directory (its disk.raw if there is one, else its UKI with rootfs.img as "
                        + "/dev/vda), a disk image, or a UKI. The firmware starts from a copy of the set's "
                        + "dev-keys/secureboot/OVMF_VARS.fd (--ovmf-vars: another store); no input file is ever modified. KVM "
                        + "when /dev/kvm can run the Secure Boot firmware (it needs SMM), else TCG (slower). Every exit, Ctrl-C "
                        + "included, stops QEMU and swtpm and removes the temporary files.",
                "Exit 0: --expect's TEXT appeared (without --expect: the guest powered off); 1: timeout, kernel "
                        + "panic, image refused by the firmware, or the guest stopped before TEXT; 3: TARGET, firmware or "
                        + "variable store missing, or qemu-system-x86 / ovmf / swtpm not installed."})
public final class BootCommand implements Callable<Integer> {
    /** The timeout with {@code --expect} and no {@code --timeout}. */
    static final long DEFAULT_EXPECT_TIMEOUT_SECONDS = 300;

    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "TARGET", description = "A build's output directory, a disk image, or a UKI.")
    Path target;
    @Option(names = "--ovmf-code", paramLabel = "FILE",
            description = "Secure Boot firmware (default: /usr/share/OVMF/OVMF_CODE_4M.secboot.fd, Debian package ovmf).")
    Path ovmfCode;
    @Option(names = "--ovmf-vars", paramLabel = "FILE",
            description = "Variable store to start from, copied, never modified (default: the set's dev-keys/secureboot/OVMF_VARS.fd).")
    Path ovmfVars;
    @Option(names = "--no-tpm", description = "No TPM (swtpm not needed).")
    boolean noTpm;
    @Option(names = "--memory", paramLabel = "MIB", defaultValue = "1024", description = "Guest memory in MiB (default: 1024).")
    int memory;
    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "Stop QEMU after this long, exit 1 (default: " + DEFAULT_EXPECT_TIMEOUT_SECONDS
                    + " with --expect, else none; 0: none).")
    Long timeout;
    @Option(names = "--expect", paramLabel = "TEXT",
            description = "A CI smoke test: exit 0 as soon as TEXT appears on the console (within one line), stopping the guest.")
    String expect;
    @Option(names = "--disk", paramLabel = "FILE",
            description = "Attach FILE as one more virtio disk, after TARGET's (repeatable); the guest's writes are discarded.")
    List<Path> disks = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (timeout != null && timeout < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be 0 (none) or more seconds, not " + timeout);
        }
        long seconds = timeout != null ? timeout : expect != null ? DEFAULT_EXPECT_TIMEOUT_SECONDS : 0;
        BootTarget t = BootTarget.resolve(target);
        ConsoleOutput console = new ConsoleOutput(out);
        BootRequest.Builder b = BootRequest.builder(t).ovmfVars(ovmfVars).tpm(!noTpm).memoryMiB(memory)
                .timeout(seconds == 0 ? null : Duration.ofSeconds(seconds)).expect(expect).console(console)
                .terminalInput(System.console() != null).searchPath(Environment.get("PATH"))
                .listener(new TerminalListener(err, "cairn: booting " + t.describe() + " with Secure Boot" + (noTpm ? "" : " and a TPM")));
        if (ovmfCode != null) {
            b.ovmfCode(ovmfCode);
        }
        disks.forEach(b::disk);
        BootRequest request;
        try {
            request = b.build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        BootResult r = SecureBootMachine.boot(request);
        console.endLine();
        if (!r.succeeded()) {
            throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, r.failure().orElseThrow());
        }
        err.println("cairn: " + (expect != null ? "'" + expect + "' appeared after " + seconds(r.untilExpected().orElse(r.elapsed()))
                : "the guest powered off after " + seconds(r.elapsed())) + " (" + r.accelerator() + ")");
        err.flush();
        return 0;
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /** What is booted (once), QEMU's command line and notes on standard error, before the console starts. */
    static final class TerminalListener implements BootListener {
        private final PrintWriter err;
        private String first;

        TerminalListener(PrintWriter err, String first) {
            this.err = err;
            this.first = first;
        }

        @Override
        public void started(String accelerator, List<String> command) {
            if (first != null) {
                err.println(first);
                first = null;
            }
            err.println("cairn: $ " + String.join(" ", command));
            err.flush();
        }

        @Override
        public void info(String message) {
            err.println("cairn: " + message);
            err.flush();
        }
    }
}
