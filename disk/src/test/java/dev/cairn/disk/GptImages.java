package dev.cairn.disk;

import dev.cairn.io.LittleEndian;
import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32;

/** Small valid GPT images and CRC fix-ups, so corruptions get past the CRC checks to the checks behind them. */
final class GptImages {
    static final UUID DISK = UUID.fromString("a5c297da-ee09-4294-b4ec-5007a97cdfc3");

    private GptImages() {
    }

    /** A 5 MiB disk with three partitions (the third without content), 512-byte sectors. */
    static byte[] valid(Path dir) throws IOException {
        Path a = dir.resolve("gpt-a");
        SeededData.writeFile(a, 1, 10_000);
        DiskLayout l = DiskLayout.plan(DISK, List.of(
                new PartitionSpec(DpsType.ESP.uuid(), new UUID(7, 1), "esp", 0, 1 << 20, a),
                new PartitionSpec(DpsType.ROOT_X86_64.uuid(), new UUID(7, 2), "root", DpsType.READ_ONLY, 2 << 20, a),
                new PartitionSpec(DpsType.ROOT_X86_64_VERITY.uuid(), new UUID(7, 3), "root-verity", DpsType.READ_ONLY, 8192, null)),
                5L << 20);
        Path img = dir.resolve("gpt.raw");
        GptWriter.write(l, img);
        return Files.readAllBytes(img);
    }

    /** Recomputes the entry-array CRC and then the header CRC of the header at {@code headerOffset}, as far as its fields allow. */
    static void fixCrcs(byte[] img, int headerOffset, int sectorSize) {
        try {
            long entriesLba = LittleEndian.u64(img, headerOffset + 0x48, "lba");
            long count = LittleEndian.u32(img, headerOffset + 0x50, "count");
            long size = LittleEndian.u32(img, headerOffset + 0x54, "size");
            long from = entriesLba * sectorSize;
            long len = count * size;
            if (from >= 0 && len >= 0 && len <= img.length && from <= img.length - len) {
                CRC32 c = new CRC32();
                c.update(img, (int) from, (int) len);
                LittleEndian.putU32(img, headerOffset + 0x58, c.getValue());
            }
            long hs = LittleEndian.u32(img, headerOffset + 0x0C, "hs");
            if (hs >= 92 && hs <= sectorSize) {
                LittleEndian.putU32(img, headerOffset + 0x10, 0);
                CRC32 c = new CRC32();
                c.update(img, headerOffset, (int) hs);
                LittleEndian.putU32(img, headerOffset + 0x10, c.getValue());
            }
        } catch (dev.cairn.io.FormatException e) {
            throw new IllegalStateException(e);
        }
    }

    static void fixBoth(byte[] img) {
        fixCrcs(img, 512, 512);
        fixCrcs(img, img.length - 512, 512);
    }

    /** Offset of entry {@code i} (0-based) in the primary or the backup array. */
    static int entry(byte[] img, int i, boolean backup) {
        return (backup ? img.length - 33 * 512 : 1024) + i * 128;
    }
}
