package dev.cairn.testing.boot;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What one {@link SecureBootVm} run showed.
 *
 * @param outcome      how the run ended
 * @param console      the serial console, with carriage returns and terminal escape sequences removed
 * @param command      the QEMU command line
 * @param accelerator  {@code kvm} or {@code tcg}
 * @param elapsed      from starting QEMU to its end (exit, or kill)
 * @param untilMarker  from starting QEMU to the marker line, when it appeared
 * @param qemuStderr   what QEMU itself reported (warnings, errors)
 */
public record BootResult(Outcome outcome, String console, List<String> command, String accelerator, Duration elapsed,
        Optional<Duration> untilMarker, String qemuStderr) {

    /** How a run ended. */
    public enum Outcome {
        /** The marker line appeared: the image was accepted and the payload ran. */
        BOOTED,
        /** The firmware refused the image: "Access Denied" or "Security Violation" on loading it. */
        REFUSED,
        /** No boot option worked and none was refused for security reasons. */
        NO_BOOTABLE_DEVICE,
        /** The kernel panicked before the marker. */
        KERNEL_PANIC,
        /** QEMU ended before the marker for another reason. */
        EXITED,
        /** Nothing conclusive before the timeout; QEMU was killed. */
        TIMED_OUT
    }

    public boolean booted() {
        return outcome == Outcome.BOOTED;
    }

    public boolean refused() {
        return outcome == Outcome.REFUSED;
    }

    /** The console's lines. */
    public List<String> lines() {
        return console.lines().toList();
    }

    /** The rest of the first console line that starts with {@code prefix} (e.g. {@code PCR11-SHA256=}). */
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

    /** A summary for assertion messages: outcome, timing and the last console lines. */
    public String describe() {
        List<String> l = lines();
        return "outcome " + outcome + " after " + elapsed.toMillis() + " ms (" + accelerator + ")"
                + untilMarker.map(d -> ", marker after " + d.toMillis() + " ms").orElse("") + "\n$ " + commandLine()
                + "\n--- last console lines ---\n" + String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()))
                + (qemuStderr.isBlank() ? "" : "\n--- qemu stderr ---\n" + qemuStderr);
    }
}
