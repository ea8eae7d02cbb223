package dev.cairn.disk;

import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A small valid ESP image and the offsets of its structures, for the FAT reader's hostile-input tests. */
final class FatImages {
    static final long SIZE = 33L << 20;
    static final FatGeometry GEOMETRY = FatGeometry.of(SIZE);

    private FatImages() {
    }

    static byte[] valid(Path dir) throws IOException {
        Path img = dir.resolve("esp-valid.img");
        try (Fat32Writer w = new Fat32Writer(SIZE, 0x12345678, "ESP", 1_700_000_000L);
             FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                     StandardOpenOption.WRITE)) {
            w.addFile("/EFI/BOOT/BOOTX64.EFI", SeededData.bytes(1, 5000));
            w.addFile("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi", SeededData.bytes(2, 20_000));
            w.addFile("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi.extra.d/a.raw", SeededData.bytes(3, 700));
            w.addFile("/loader/loader.conf", "timeout 3\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            w.addFile("/empty", new byte[0]);
            w.finish(ch);
        }
        return Files.readAllBytes(img);
    }

    /** Byte offset of FAT entry {@code cluster} in FAT number {@code fat} (0 or 1). */
    static long fatEntry(int fat, long cluster) {
        return (GEOMETRY.reservedSectors() + fat * GEOMETRY.fatSectors()) * 512L + 4 * cluster;
    }

    /** End of the metadata (reserved sectors, FATs and the directories, which come first in the data area). */
    static int metadataEnd() {
        return (int) GEOMETRY.clusterOffset(2 + 16);
    }

    static byte[] u32(long v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }
}
