package dev.cairn.pipeline.boot;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What one {@link SecureBootMachine#boot} showed.
 *
 * @param outcome        how the run ended
 * @param expected       the text the run waited for ({@link BootRequest#expect()}), or null
 * @param console        the serial console as text (UTF-8), carriage returns and terminal escape sequences removed
 * @param command        the QEMU command line
 * @param accelerator    {@code kvm} or {@code tcg}
 * @param elapsed        from starting QEMU to its end (exit, or stop)
 * @param untilExpected  from starting QEMU to the line with the expected text, when it appeared
 * @param qemuExit       QEMU's exit status when it ended by itself, -1 when it was stopped
 * @param qemuStderr     what QEMU itself reported (warnings, errors)
 */
public record BootResult(Outcome outcome, String expected, String console, List<String> command, String accelerator,
        Duration elapsed, Optional<Duration> untilExpected, int qemuExit, String qemuStderr) {

    /** How a run ended. */
    public enum Outcome {
        /** The expected text appeared: the image was accepted and the payload ran. */
        BOOTED,
        /** The firmware refused the image: "Access Denied" or "Security Violation" on loading it. */
        REFUSED,
        /** No boot option worked and none was refused for security reasons. */
        NO_BOOTABLE_DEVICE,
        /** The kernel panicked (before the expected text, if any). */
        KERNEL_PANIC,
        /** QEMU exited by itself with status 0: the guest powered off (or reset: QEMU runs with {@code -no-reboot}). */
        POWERED_OFF,
        /** QEMU exited by itself with another status (see {@link #qemuStderr()}). */
        EXITED,
        /** Nothing conclusive before the timeout; QEMU was stopped. */
        TIMED_OUT
    }

    public BootResult {
        command = List.copyOf(command);
    }

    /** The expected text appeared. */
    public boolean booted() {
        return outcome == Outcome.BOOTED;
    }

    public boolean refused() {
        return outcome == Outcome.REFUSED;
    }

    /** What {@code cairn boot} calls success: the expected text appeared; without one, the guest powered off. */
    public boolean succeeded() {
        return expected != null ? outcome == Outcome.BOOTED : outcome == Outcome.POWERED_OFF;
    }

    /** Why the run did not succeed, in one line; empty when it did. */
    public Optional<String> failure() {
        if (succeeded()) {
            return Optional.empty();
        }
        String missing = expected == null ? "" : " before '" + expected + "' appeared";
        return Optional.of(switch (outcome) {
            case BOOTED -> "unexpected outcome"; // only with no expected text, which cannot be seen
            case REFUSED -> "the firmware refused the image under Secure Boot: "
                    + firmwareBootLines().stream().filter(l -> SecureBootMachine.REFUSAL.matcher(l).matches()).findFirst().orElse("");
            case NO_BOOTABLE_DEVICE -> "the firmware found nothing to boot (" + SecureBootMachine.NO_BOOTABLE + ")";
            case KERNEL_PANIC -> "kernel panic" + missing + ": "
                    + lines().stream().filter(l -> l.contains(SecureBootMachine.PANIC)).findFirst().orElse("").strip();
            case POWERED_OFF -> "the guest powered off" + missing;
            case EXITED -> "qemu-system-x86_64 exited with status " + qemuExit + missing
                    + qemuStderr.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).map(l -> ": " + l).orElse("");
            case TIMED_OUT -> "timed out after " + elapsed.toSeconds() + " s" + missing;
        });
    }

    /** The console's lines. */
    public List<String> lines() {
        return console.lines().toList();
    }

    /** The rest of the first console line that starts with {@code prefix} (e.g. {@code PCR11-SHA256=}), stripped. */
    public Optional<String> valueAfter(String prefix) {
        return console.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()).strip()).findFirst();
    }

    /** The firmware's lines about loading or starting boot options ({@code BdsDxe: …}). */
    public List<String> firmwareBootLines() {
        return console.lines().filter(l -> l.startsWith("BdsDxe:")).toList();
    }

    /** The command line as a shell would take it (for reports). */
    public String commandLine() {
        return String.join(" ", command);
    }

    /** A summary for logs and assertion messages: outcome, timing, the command and the last console lines. */
    public String describe() {
        List<String> l = lines();
        return "outcome " + outcome + " after " + elapsed.toMillis() + " ms (" + accelerator + ")"
                + untilExpected.map(d -> ", expected text after " + d.toMillis() + " ms").orElse("") + "\n$ " + commandLine()
                + "\n--- last console lines ---\n" + String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()))
                + (qemuStderr.isBlank() ? "" : "\n--- qemu stderr ---\n" + qemuStderr);
    }
}
