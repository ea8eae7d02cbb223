/**
 * Booting an image set in QEMU with OVMF's Secure Boot firmware and a software TPM: {@link
 * dev.cairn.pipeline.boot.SecureBootMachine#boot} runs a {@link dev.cairn.pipeline.boot.BootRequest} for a {@link
 * dev.cairn.pipeline.boot.BootTarget} (a build's output directory, a disk image or a UKI) and returns a {@link
 * dev.cairn.pipeline.boot.BootResult}; the serial console streams to a caller's {@link java.io.OutputStream}. The face
 * is {@code cairn boot}; the boot tests use the same code.
 */
package dev.cairn.pipeline.boot;
