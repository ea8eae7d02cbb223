/**
 * Disk images: GPT partition tables laid out byte for byte as systemd-repart 252 (libfdisk) writes
 * them ({@link dev.cairn.disk.DiskLayout}, {@link dev.cairn.disk.GptWriter}), a hostile-input-safe
 * GPT reader ({@link dev.cairn.disk.GptReader}), a reproducible FAT32 writer for EFI system
 * partitions in mkfs.fat 4.2's layout ({@link dev.cairn.disk.Fat32Writer}) and its reader
 * ({@link dev.cairn.disk.FatReader}), the Discoverable Partitions type GUIDs and flags
 * ({@link dev.cairn.disk.DpsType}), repart's UUID derivations ({@link dev.cairn.disk.RepartUuids})
 * and the fixed-VHD footer ({@link dev.cairn.disk.VhdFooter}).
 *
 * <p>The module knows nothing about verity or UKIs: the pipeline composes partitions from their
 * contents. Facts and sources: {@code docs/disk.md}.
 */
package dev.cairn.disk;
