package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import dev.cairn.testing.SeededData;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FAT reader on valid input and on each named corruption. */
class FatReaderTest {
    @TempDir
    static Path dir;
    static byte[] valid;
    static MemChannel image;

    @BeforeAll
    static void build() throws IOException {
        valid = FatImages.valid(dir);
        image = new MemChannel(valid);
    }

    static FatReader open(MemChannel ch) throws IOException {
        return FatReader.open(ch);
    }

    static long cluster(String path) throws IOException {
        return open(image).find(path).firstCluster();
    }

    /** Sets FAT entry {@code c} in both FATs. */
    static MemChannel fat(MemChannel ch, long c, long v) {
        return ch.patch(FatImages.fatEntry(0, c), FatImages.u32(v)).patch(FatImages.fatEntry(1, c), FatImages.u32(v));
    }

    @Test
    void listsAndReads() throws IOException {
        FatReader r = open(image);
        assertThat(r.volumeId()).isEqualTo(0x12345678);
        assertThat(r.volumeLabel()).isEqualTo("ESP");
        assertThat(r.clusterCount()).isEqualTo(66_512);
        List<FatFile> all = r.list();
        assertThat(all).extracting(FatFile::path).containsExactly("/EFI", "/empty", "/loader", "/EFI/BOOT", "/EFI/Linux",
                "/EFI/BOOT/BOOTX64.EFI", "/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi", "/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi.extra.d",
                "/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi.extra.d/a.raw", "/loader/loader.conf");
        assertThat(r.find("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi").shortName()).isEqualTo("CAIRN_~1.EFI");
        assertThat(r.find("/efi/boot/bootx64.efi").path()).isEqualTo("/EFI/BOOT/BOOTX64.EFI");
        assertThat(r.readFile("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi", 1 << 20)).isEqualTo(SeededData.bytes(2, 20_000));
        assertThat(r.readFile("/empty", 0)).isEmpty();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(r.copyFile("/EFI/BOOT/BOOTX64.EFI", out)).isEqualTo(5000);
        assertThat(out.toByteArray()).isEqualTo(SeededData.bytes(1, 5000));
        assertThatThrownBy(() -> r.readFile("/EFI/BOOT/BOOTX64.EFI", 4999)).isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> r.readFile("/nope", 10)).isInstanceOf(FileNotFoundException.class);
        assertThatThrownBy(() -> r.readFile("/EFI", 10)).isInstanceOf(FileNotFoundException.class);
    }

    @Test
    void uefiRefusalsAreEdk2sFatOpenDevice() throws IOException {
        assertThat(open(image).uefiRefusals()).isEmpty();
        assertThat(open(image.patch(0x2A, new byte[] {1, 0})).uefiRefusals()).containsExactly("BPB_FSVer 1 is not 0");
        assertThat(open(image.patch(0x28, new byte[] {(byte) 0x81, 0})).uefiRefusals())
                .containsExactly("FAT mirroring is disabled (BPB_ExtFlags 0x0081)");
        assertThat(open(image.patch(0x15, new byte[] {(byte) 0xF0})).uefiRefusals()).isEmpty();
        assertThat(open(image.patch(0x15, new byte[] {(byte) 0xF7})).uefiRefusals()).containsExactly("media byte 0xF7");
        // 988 sectors (one per cluster) fewer: 65 524 clusters, a FAT16 by count; the files still read
        long total = java.nio.ByteBuffer.wrap(valid, 0x20, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFF_FFFFL;
        FatReader small = open(image.patch(0x20, FatImages.u32(total - 988)));
        assertThat(small.clusterCount()).isEqualTo(65_524);
        assertThat(small.uefiRefusals()).containsExactly("65524 clusters, fewer than FAT32's 65525");
        assertThat(small.readFile("/EFI/BOOT/BOOTX64.EFI", 5000)).isEqualTo(SeededData.bytes(1, 5000));
        assertThat(open(image.patch(0x20, FatImages.u32(total - 987))).uefiRefusals()).isEmpty();
    }

    @Test
    void loopingChainIsCaught() throws IOException {
        long c = cluster("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi");
        FatReader selfLoop = open(fat(image, c + 3, c + 3));
        // a chain that comes back to one of its own clusters is caught when the listing claims every cluster once
        assertThatThrownBy(() -> selfLoop.readFile("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi", 1 << 20))
                .isInstanceOf(FormatException.class).hasMessageContaining("cross-linked");
        FatReader backLoop = open(fat(image, c + 39, c));
        assertThatThrownBy(() -> backLoop.readFile("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi", 1 << 20))
                .isInstanceOf(FormatException.class).hasMessageContaining("past the file size");
        FatReader early = open(fat(image, c + 3, 0x0FFF_FFFFL));
        assertThatThrownBy(() -> early.readFile("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi", 1 << 20))
                .isInstanceOf(FormatException.class).hasMessageContaining("ends after 4 of 40");
        for (long bad : new long[] {0, 1, 0x0FFF_FFF7L, 0x0FFF_0000L}) {
            FatReader r = open(fat(image, c, bad));
            assertThatThrownBy(() -> r.readFile("/EFI/Linux/cairn_1.0-6.1.0-x86-64.efi", 1 << 20)).as(Long.toHexString(bad))
                    .isInstanceOf(FormatException.class).hasMessageContaining("free, bad or out-of-range");
        }
    }

    @Test
    void directoryLoopsAndLoopingDirectoryChains() throws IOException {
        // /EFI/Linux's entry in /EFI points back at /EFI itself
        long efi = cluster("/EFI");
        long linux = cluster("/EFI/Linux");
        long entry = findEntry(efi, "LINUX      ");
        MemChannel loop = image.patch(entry + 0x1A, new byte[] {(byte) efi, (byte) (efi >>> 8)});
        assertThatThrownBy(() -> open(loop).list()).isInstanceOf(FormatException.class).hasMessageContaining("directory loop");
        MemChannel toRoot = image.patch(entry + 0x1A, new byte[] {2, 0});
        assertThatThrownBy(() -> open(toRoot).list()).isInstanceOf(FormatException.class).hasMessageContaining("directory loop");
        assertThat(linux).isNotEqualTo(efi);
        // /EFI/BOOT's chain continues into /EFI's cluster: two directories share it (fsck.fat: "share clusters")
        assertThatThrownBy(() -> open(fat(image, cluster("/EFI/BOOT"), efi)).list()).isInstanceOf(FormatException.class)
                .hasMessageContaining("cross-linked");
        // the root directory's chain points at itself: at most 2 MiB of directory, then an error
        assertThatThrownBy(() -> open(fat(image, 2, 2)).list()).isInstanceOf(FormatException.class)
                .hasMessageContaining("longer than");
    }

    @Test
    void absurdSizesAndClusters() throws IOException {
        long efi = cluster("/EFI/BOOT");
        long entry = findEntry(efi, "BOOTX64 EFI");
        assertThatThrownBy(() -> open(image.patch(entry + 0x1C, FatImages.u32(0xFFFF_FFFFL))).list())
                .isInstanceOf(FormatException.class).hasMessageContaining("larger than the whole data area");
        assertThatThrownBy(() -> open(image.patch(entry + 0x1A, new byte[] {(byte) 0xff, (byte) 0xff})
                .patch(entry + 0x14, new byte[] {(byte) 0xff, 0x0f})).list())
                .isInstanceOf(FormatException.class).hasMessageContaining("out of range");
        FatReader shorter = open(image.patch(entry + 0x1C, FatImages.u32(400_000)));
        assertThatThrownBy(() -> shorter.readFile("/EFI/BOOT/BOOTX64.EFI", 1 << 20)).isInstanceOf(FormatException.class);
        FatReader name = open(image.patch(entry, "BOOT/64 EFI".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        assertThatThrownBy(name::list).isInstanceOf(FormatException.class).hasMessageContaining("invalid file name");
    }

    @Test
    void badBootSectors() throws IOException {
        Object[][] cases = {
            {0x0B, new byte[] {0, 1}}, {0x0B, new byte[] {0, 0x20}}, {0x0D, new byte[] {3}}, {0x0D, new byte[] {0}},
            {0x0E, new byte[] {0, 0}}, {0x10, new byte[] {0}}, {0x10, new byte[] {9}}, {0x24, FatImages.u32(0)},
            {0x24, FatImages.u32(0x7FFF_FFFFL)}, {0x20, FatImages.u32(0xFFFF_FFFFL)}, {0x2C, FatImages.u32(0)},
            {0x2C, FatImages.u32(1_000_000)}, {0x1FE, new byte[] {0, 0}}, {0x24, FatImages.u32(100)}, {0x28, new byte[] {(byte) 0x85, 0}},
        };
        for (Object[] c : cases) {
            MemChannel ch = image.patch((int) c[0], (byte[]) c[1]);
            assertThatThrownBy(() -> open(ch).list()).as("offset 0x" + Integer.toHexString((int) c[0]))
                    .isInstanceOf(FormatException.class);
        }
        assertThatThrownBy(() -> open(image.patch(0x16, new byte[] {1, 0}))).isInstanceOf(UnsupportedFeatureException.class);
        assertThatThrownBy(() -> open(image.cut(20L << 20))).isInstanceOf(FormatException.class).hasMessageContaining("larger than");
        assertThatThrownBy(() -> FatReader.open(image, 100, 10)).isInstanceOf(FormatException.class);
    }

    @Test
    void brokenLongNamesFallBackToShortNames() throws IOException {
        long linux = cluster("/EFI/Linux");
        long entry = findEntry(linux, "CAIRN_~1EFI");
        // two LFN entries before it: spoil the checksum of the first one
        MemChannel ch = image.patch(entry - 32 * 2 + 0x0D, new byte[] {0x55});
        List<FatFile> all = open(ch).list();
        assertThat(all).extracting(FatFile::path).contains("/EFI/Linux/CAIRN_~1.EFI");
    }

    @Test
    void theEspInsideAGptDisk() throws IOException {
        java.nio.file.Path esp = dir.resolve("esp-for-disk.img");
        java.nio.file.Files.write(esp, valid);
        java.util.UUID espUuid = new java.util.UUID(5, 5);
        DiskLayout l = DiskLayout.plan(GptImages.DISK, List.of(PartitionSpec.of(DpsType.ESP, espUuid, 0, 34L << 20, esp)), 0);
        java.nio.file.Path disk = dir.resolve("with-esp.raw");
        GptWriter.write(l, disk);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(disk)) {
            GptTable t = GptReader.read(ch);
            GptEntry e = t.entry(espUuid);
            assertThat(e.dpsType()).contains(DpsType.ESP);
            FatReader r = FatReader.open(ch, t.offset(e), t.size(e));
            assertThat(r.readFile("/EFI/BOOT/BOOTX64.EFI", 1 << 20)).isEqualTo(SeededData.bytes(1, 5000));
            assertThatThrownBy(() -> FatReader.open(ch, t.offset(e), 1 << 20)).isInstanceOf(FormatException.class);
            assertThatThrownBy(() -> FatReader.open(ch, ch.size() - 100, 1000)).isInstanceOf(FormatException.class);
        }
    }

    /** Offset of the short entry named {@code name11} in the directory at {@code cluster} (its first cluster). */
    static long findEntry(long cluster, String name11) {
        long base = FatImages.GEOMETRY.clusterOffset(cluster);
        for (int off = 0; off < FatImages.GEOMETRY.clusterBytes() * 4; off += 32) {
            String n = new String(valid, (int) base + off, 11, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (n.equals(name11)) {
                return base + off;
            }
        }
        throw new AssertionError(name11 + " not found");
    }
}
