package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.Golden;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * cairn's FAT32 against dosfstools 4.2 and mtools: an empty image is mkfs.fat's own (but for the
 * OEM name), fsck.fat -n finds populated images clean, and mtools reads every file back
 * byte-identical — long names under /EFI/Linux included.
 */
class FatOracleIT {
    /** mkfs.fat --invariant's time stamp: 2015-03-14 09:26:53 UTC. */
    static final long MKFS_INVARIANT_TIME = 1_426_325_213L;
    static final long TIME = 1_700_000_000L;
    static ToolOracle mkfs;
    static ToolOracle fsck;
    static ToolOracle mdir;
    static ToolOracle mcopy;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        mkfs = ToolOracle.require("mkfs.fat", "dosfstools");
        fsck = ToolOracle.require("fsck.fat", "dosfstools");
        mdir = ToolOracle.require("mdir", "mtools");
        mcopy = ToolOracle.require("mcopy", "mtools");
    }

    @ParameterizedTest
    @ValueSource(longs = {33L << 20, 64L << 20, 300L << 20, 600L << 20, 34_603_520L, 300_000_256L, 34_095_104L})
    void emptyImageIsMkfsFatsButForTheOemName(long size) throws IOException {
        Path theirs = dir.resolve("mkfs.img");
        try (RandomAccessFile f = new RandomAccessFile(theirs.toFile(), "rw")) {
            f.setLength(size);
        }
        mkfs.runOk("--invariant", "-i", "26aad50e", "-n", "ESP", "-F", "32", theirs.toString());
        Path ours = dir.resolve("cairn.img");
        write(ours, size, 0x26AAD50E, "esp", MKFS_INVARIANT_TIME, Map.of());
        byte[] expected = Files.readAllBytes(theirs);
        byte[] actual = Files.readAllBytes(ours);
        for (int sector : new int[] {0, FatGeometry.BACKUP_BOOT_SECTOR}) {
            int at = sector * 512 + FatBootSector.OFF_OEM;
            assertThat(new String(expected, at, 8, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("mkfs.fat");
            assertThat(new String(actual, at, 8, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("cairn   ");
            System.arraycopy(expected, at, actual, at, 8);
        }
        Golden.assertBytesEqual(expected, actual, "empty FAT32 of " + size + " bytes");
    }

    static Map<String, byte[]> files() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("/EFI/BOOT/BOOTX64.EFI", SeededData.bytes(1, 300_001));
        m.put("/EFI/Linux/cairn_1.0-6.1.0-28-amd64-x86-64.efi", SeededData.bytes(2, 2_000_000));
        m.put("/EFI/Linux/cairn_1.0-6.1.0-28-amd64-x86-64.efi.extra.d/debug tools.sysext.raw", SeededData.bytes(3, 70_000));
        m.put("/EFI/Linux/Grüße ✓.efi", SeededData.bytes(4, 513));
        m.put("/loader/loader.conf", "timeout 3\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        m.put("/loader/entries.srel", "type1\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        m.put("/startup.nsh", new byte[0]);
        m.put("/" + "x".repeat(200) + ".efi", SeededData.bytes(5, 4096));
        for (int i = 0; i < 40; i++) {
            m.put("/EFI/many/file number " + i + ".txt", ("content " + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        return m;
    }

    static FatResult write(Path out, long size, int volumeId, String label, long time, Map<String, byte[]> files) throws IOException {
        try (Fat32Writer w = new Fat32Writer(size, volumeId, label, time);
             FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                     StandardOpenOption.WRITE)) {
            if (!files.isEmpty()) {
                w.addDirectory("/EFI/empty dir");
            }
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                w.addFile(e.getKey(), e.getValue());
            }
            FatResult r = w.finish(ch);
            assertThat(ch.size()).isEqualTo(size);
            return r;
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {33L << 20, 64L << 20, 300L << 20})
    void fsckFindsItCleanAndMtoolsReadsEveryFileBack(long size) throws IOException {
        Path img = dir.resolve("esp.img");
        Map<String, byte[]> files = files();
        FatResult written = write(img, size, 0x1234ABCD, "ESP", TIME, files);
        ToolOracle.Result r = fsck.run(ToolOracle.DEFAULT_TIMEOUT, "-n", "-V", img.toString());
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
        // fsck.fat counts files and directories, the root included
        assertThat(r.stdout()).contains(": " + (written.files() + written.directories()) + " files, "
                        + written.usedClusters() + "/" + written.geometry().clusterCount() + " clusters").doesNotContain("differ", "Free cluster", "Lost", "Dirty");

        String listing = Utf8Tool.runOk(mdir, "-i", img.toString(), "-/", "-a", "::");
        assertThat(listing).contains("cairn_1.0-6.1.0-28-amd64-x86-64.efi", "Grüße ✓.efi", "debug tools.sysext.raw",
                "BOOTX64  EFI", "Volume in drive : is ESP", "Volume Serial Number is 1234-ABCD");
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Path got = dir.resolve("got");
            Files.deleteIfExists(got);
            Utf8Tool.runOk(mcopy, "-n", "-i", img.toString(), "::" + e.getKey(), got.toString());
            Golden.assertBytesEqual(e.getValue(), Files.readAllBytes(got), e.getKey());
        }
    }

    @Test
    void twoWritesAreIdenticalAndOurReaderAgrees() throws IOException {
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        FatResult ra = write(a, 40L << 20, 7, "ESP", TIME, files());
        FatResult rb = write(b, 40L << 20, 7, "ESP", TIME, files());
        Golden.assertFilesEqual(a, b);
        assertThat(ra).isEqualTo(rb);
        try (FileChannel ch = FileChannel.open(a)) {
            FatReader reader = FatReader.open(ch);
            List<FatFile> all = reader.list();
            for (Map.Entry<String, byte[]> e : files().entrySet()) {
                assertThat(reader.readFile(e.getKey(), 1 << 24)).as(e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(all).allMatch(f -> f.modifiedEpochSeconds() == TIME);
            assertThat(reader.find("/EFI/BOOT/BOOTX64.EFI").shortName()).isEqualTo("BOOTX64.EFI");
            assertThat(reader.find("/EFI/Linux").shortName()).isEqualTo("LINUX");
            assertThat(reader.volumeLabel()).isEqualTo("ESP");
        }
    }
}
