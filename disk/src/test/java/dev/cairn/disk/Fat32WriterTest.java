package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FAT32 planner (mkfs.fat's numbers), names, and the writer's protocol; FatOracleIT checks the bytes with dosfstools and mtools. */
class Fat32WriterTest {
    @TempDir
    Path dir;

    @Test
    void geometryAsMkfsFatComputesIt() {
        // VERIFIED mkfs.fat 4.2 numbers (ddi-sysext.md §5) and this machine's mkfs.fat runs
        FatGeometry g33 = FatGeometry.of(33L << 20);
        assertThat(g33.clusterCount()).isEqualTo(66_512);
        assertThat(g33.sectorsPerCluster()).isEqualTo(1);
        assertThat(g33.fatSectors()).isEqualTo(520);
        assertThat(g33.reservedSectors()).isEqualTo(32);
        assertThat(g33.sectorsPerTrack()).isEqualTo(32);
        assertThat(g33.heads()).isEqualTo(8);
        assertThat(g33.dataStartSector()).isEqualTo(1072);
        assertThat(FatGeometry.of(64L << 20).clusterCount()).isEqualTo(129_022);
        FatGeometry g300 = FatGeometry.of(300L << 20);
        assertThat(g300.sectorsPerCluster()).isEqualTo(8);
        assertThat(g300.sectorsPerTrack()).isEqualTo(63);
        assertThat(g300.heads()).isEqualTo(16);
        assertThat(g300.totalSectors()).isEqualTo(614_376); // rounded down to whole 63-sector tracks
        assertThat(FatGeometry.of(512L << 20).sectorsPerCluster()).isEqualTo(8);
        assertThat(FatGeometry.of(260L << 20).sectorsPerCluster()).isEqualTo(1);
        assertThat(FatGeometry.of(9L << 30).sectorsPerCluster()).isEqualTo(16);
    }

    @Test
    void tooSmallIsRefusedNamingTheMinimum() {
        long min = FatGeometry.MIN_SIZE;
        assertThat(FatGeometry.of(min).clusterCount()).isGreaterThanOrEqualTo(65_525);
        assertThat(FatGeometry.compute(min - 512).clusterCount()).isLessThan(65_525);
        assertThat(min).isBetween(32L << 20, 33L << 20);
        assertThatThrownBy(() -> new Fat32Writer(32L << 20, 1, "ESP", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("65525").hasMessageContaining(Long.toString(min));
        assertThatThrownBy(() -> new Fat32Writer((33L << 20) + 1, 1, "ESP", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void plainNamesStayShortOthersGetAliases() {
        assertThat(FatNames.plainShortName("EFI")).isEqualTo(FatNames.pack("EFI", ""));
        assertThat(FatNames.plainShortName("BOOTX64.EFI")).isEqualTo(FatNames.pack("BOOTX64", "EFI"));
        assertThat(FatNames.plainShortName("Linux")).isNull();
        assertThat(FatNames.plainShortName("bootx64.efi")).isNull();
        assertThat(FatNames.plainShortName("A.B.C")).isNull();
        assertThat(FatNames.plainShortName("TOOLONGNAME")).isNull();
        assertThat(FatNames.plainShortName("X.")).isNull();
        Set<String> taken = new HashSet<>();
        assertThat(alias("Linux", taken)).isEqualTo("LINUX      ");
        assertThat(alias("linux-6.1.efi", taken)).isEqualTo("LINUX-~1EFI");
        assertThat(alias("linux-6.2.efi", taken)).isEqualTo("LINUX-~2EFI");
        assertThat(alias("cairn_1.0-x86-64.efi.extra.d", taken)).isEqualTo("CAIRN_~1D  ");
        assertThat(alias("debug tools.raw", taken)).isEqualTo("DEBUGT~1RAW");
        assertThat(alias(".hidden", taken)).isEqualTo("HIDDEN~1   ");
        assertThat(alias("Grüße.efi", taken)).isEqualTo("GR_SSE~1EFI");
        assertThat(alias("a+b.efi", taken)).isEqualTo("A_B~1   EFI");
        assertThat(alias("x.jpeg", taken)).isEqualTo("X~1     JPE");
        taken.clear();
        for (int i = 1; i <= 10; i++) {
            alias("file number " + i + ".txt", taken);
        }
        assertThat(taken).contains("FILENU~9TXT", "FILEN~10TXT");
    }

    static String alias(String name, Set<String> taken) {
        String s = FatNames.text(FatNames.alias(name, taken));
        taken.add(s);
        return s;
    }

    @Test
    void badNamesAreRefused() {
        for (String bad : new String[] {"a/b:c", "tab\there", "star*", "trailing.", "trailing ", "..", "q?", "\\x"}) {
            assertThatThrownBy(() -> FatNames.checkLongName(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        FatNames.checkLongName("ok name with spaces & ünïcödé ✓.efi");
        assertThatThrownBy(() -> FatNames.checkLongName("x".repeat(256))).isInstanceOf(IllegalArgumentException.class);
        FatNames.checkLongName("x".repeat(255));
    }

    @Test
    void labelsAreMangledAsRepartDoes() {
        assertThat(new String(FatNames.volumeLabel("esp"), StandardCharsets.US_ASCII)).isEqualTo("ESP        ");
        assertThat(new String(FatNames.volumeLabel("my.esp:part*long"), StandardCharsets.US_ASCII)).isEqualTo("MY_ESP_PART");
        assertThat(new String(FatNames.volumeLabel("Ä"), StandardCharsets.US_ASCII)).isEqualTo("_          ");
        assertThat(new String(FatNames.volumeLabel(null), StandardCharsets.US_ASCII)).isEqualTo("NO NAME    ");
        assertThatThrownBy(() -> FatNames.volumeLabel(" x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void protocolAndConflicts() throws IOException {
        Fat32Writer w = new Fat32Writer(33L << 20, 1, "ESP", 0);
        w.addDirectory("/EFI/BOOT");
        w.addDirectory("EFI/BOOT"); // again: nothing happens
        w.addFile("/EFI/BOOT/BOOTX64.EFI", new byte[10]);
        assertThatThrownBy(() -> w.addFile("/efi/boot/bootx64.efi", new byte[1])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("case-insensitive");
        assertThatThrownBy(() -> w.addDirectory("/efi")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addFile("/EFI/BOOT/BOOTX64.EFI/x", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addFile("/EFI//x", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addFile("/EFI/../x", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addFile("/", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        try (FileChannel ch = FileChannel.open(dir.resolve("a.img"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            FatResult r = w.finish(ch);
            assertThat(r.directories()).isEqualTo(3);
            assertThat(r.files()).isEqualTo(1);
            assertThat(r.usedClusters()).isEqualTo(4);
            assertThat(ch.size()).isEqualTo(33L << 20);
            assertThatThrownBy(() -> w.finish(ch)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> w.addDirectory("/x")).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void contentThatDoesNotFitIsRefusedBeforeWriting() throws IOException {
        Fat32Writer w = new Fat32Writer(FatGeometry.MIN_SIZE, 1, "ESP", 0);
        // every cluster for the file: nothing left for the root directory
        w.addFile("/big", new byte[(int) (w.geometry().clusterCount() * 512)]);
        Path img = dir.resolve("b.img");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertThatThrownBy(() -> w.finish(ch)).isInstanceOf(IllegalStateException.class).hasMessageContaining("clusters");
            assertThat(ch.size()).isZero();
        }
    }

    @Test
    void timestampsClampToTheFatRange() {
        assertThat(FatTime.of(-5)).isEqualTo(FatTime.of(FatTime.MIN_EPOCH));
        assertThat(FatTime.of(Long.MAX_VALUE)).isEqualTo(FatTime.of(FatTime.MAX_EPOCH));
        FatTime max = FatTime.of(FatTime.MAX_EPOCH);
        assertThat(max.date() >>> 9).isEqualTo(127);
        assertThat(FatTime.toEpoch(max.date(), max.time())).isEqualTo(FatTime.MAX_EPOCH - 1);
    }
}
