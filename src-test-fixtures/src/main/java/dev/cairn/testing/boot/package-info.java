/**
 * Boot tests: {@link dev.cairn.testing.boot.SecureBootFirmware} requires QEMU, swtpm and OVMF and names Debian's
 * snakeoil Secure Boot files (the runner itself is product code: {@code dev.cairn.pipeline.boot.SecureBootMachine});
 * {@link dev.cairn.testing.boot.BusyboxInitramfs} is the tree of a tiny initramfs whose {@code /init} prints what the
 * tests assert (a marker, PCR 11, the kernel command line); {@link dev.cairn.testing.boot.DebianBootFiles} finds
 * Debian's stub and kernels; {@link dev.cairn.testing.boot.ObjcopyUki} and {@link dev.cairn.testing.boot.Sbsign} make
 * UKIs the traditional way.
 */
package dev.cairn.testing.boot;
