/**
 * Deterministic initramfs archives: SVR4 "newc" cpio (the format the kernel unpacks, see
 * {@code Documentation/driver-api/early-userspace/buffer-format.rst}), optionally compressed with
 * gzip, xz or zstd. {@link dev.cairn.uki.initrd.InitrdWriter} writes the archive;
 * {@link dev.cairn.uki.initrd.InitrdTree} adds a directory tree to it;
 * {@link dev.cairn.uki.initrd.InitrdContent} adds programs of the build machine with their shared
 * libraries ({@link dev.cairn.uki.initrd.SharedLibraryResolver}) and kernel modules with their
 * dependencies ({@link dev.cairn.uki.initrd.KernelModules}).
 */
package dev.cairn.uki.initrd;
