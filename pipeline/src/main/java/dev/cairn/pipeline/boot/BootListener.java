package dev.cairn.pipeline.boot;

import java.util.List;

/**
 * What a boot tells its face besides the console: the QEMU command line once it starts, and notes (KVM unusable, so
 * TCG). The pipeline never prints; the console itself goes to {@link BootRequest#console()}. Called on the booting
 * thread.
 */
public interface BootListener {
    /** Ignores everything. */
    BootListener NONE = new BootListener() {
    };

    /** QEMU starts with {@code command} under {@code accelerator} ({@code kvm} or {@code tcg}). */
    default void started(String accelerator, List<String> command) {
    }

    /** Something the user should know; the boot goes on. */
    default void info(String message) {
    }
}
