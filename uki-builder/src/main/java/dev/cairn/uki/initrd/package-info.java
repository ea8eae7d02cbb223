/**
 * Deterministic initramfs archives: SVR4 "newc" cpio (the format the kernel unpacks, see
 * {@code Documentation/driver-api/early-userspace/buffer-format.rst}), optionally compressed with
 * gzip, xz or zstd. {@link dev.cairn.uki.initrd.InitrdWriter} writes the archive;
 * {@link dev.cairn.uki.initrd.InitrdTree} adds a directory tree to it.
 */
package dev.cairn.uki.initrd;
