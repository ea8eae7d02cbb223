/**
 * Boot tests: {@link dev.cairn.testing.boot.SecureBootVm} boots an EFI image (a UKI) in QEMU with
 * OVMF in Secure Boot mode and an swtpm TPM 2.0, and reports what the serial console showed;
 * {@link dev.cairn.testing.boot.BusyboxInitramfs} is the tree of a tiny initramfs whose
 * {@code /init} prints what the tests assert (a marker, PCR 11, the kernel command line).
 */
package dev.cairn.testing.boot;
