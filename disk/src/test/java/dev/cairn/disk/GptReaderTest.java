package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader's checks one by one: each named corruption gives the named exception or problem. */
class GptReaderTest {
    @TempDir
    static Path dir;
    static byte[] valid;

    @BeforeAll
    static void image() throws IOException {
        valid = GptImages.valid(dir);
    }

    static GptTable read(byte[] img) throws IOException {
        return GptReader.read(new MemChannel(img));
    }

    @Test
    void readsWhatTheWriterWrote() throws IOException {
        GptTable t = read(valid);
        assertThat(t.problems()).isEmpty();
        assertThat(t.fromBackup()).isFalse();
        assertThat(t.sectorSize()).isEqualTo(512);
        assertThat(t.diskGuid()).isEqualTo(GptImages.DISK);
        assertThat(t.entries()).extracting(GptEntry::name).containsExactly("esp", "root", "root-verity");
        assertThat(t.entries().get(1).attributes()).isEqualTo(DpsType.READ_ONLY);
        assertThat(t.entries().get(1).dpsType()).contains(DpsType.ROOT_X86_64);
        assertThat(t.entry(new UUID(7, 2)).firstLba()).isEqualTo(4096);
        assertThat(t.offset(t.entries().get(0))).isEqualTo(1 << 20);
        assertThat(t.size(t.entries().get(2))).isEqualTo(8192);
        assertThat(t.backup().myLba()).isEqualTo(valid.length / 512 - 1);
    }

    @Test
    void badPrimaryHeaderCrcFallsBackToTheBackupAndSaysSo() throws IOException {
        byte[] b = valid.clone();
        b[512 + 0x28] ^= 1;
        GptTable t = read(b);
        assertThat(t.fromBackup()).isTrue();
        assertThat(t.entries()).hasSize(3);
        assertThat(t.problems()).anyMatch(p -> p.contains("primary GPT unusable") && p.contains("header_crc32"));
    }

    @Test
    void badPrimaryEntriesFallBackToTheBackup() throws IOException {
        byte[] b = valid.clone();
        b[1024 + 56] ^= 1;
        GptTable t = read(b);
        assertThat(t.fromBackup()).isTrue();
        assertThat(t.problems()).anyMatch(p -> p.contains("partition_entry_array_crc32"));
        assertThat(t.entries().get(0).name()).isEqualTo("esp");
    }

    @Test
    void missingBackupIsAProblem() throws IOException {
        byte[] b = valid.clone();
        Arrays.fill(b, b.length - 512, b.length, (byte) 0);
        GptTable t = read(b);
        assertThat(t.fromBackup()).isFalse();
        assertThat(t.backup()).isNull();
        assertThat(t.problems()).anyMatch(p -> p.contains("backup GPT unusable"));
    }

    @Test
    void bothBadThrowsThePrimarysFailure() {
        byte[] b = valid.clone();
        b[512 + 0x28] ^= 1;
        b[b.length - 512 + 0x28] ^= 1;
        assertThatThrownBy(() -> read(b)).isInstanceOf(FormatException.class)
                .satisfies(e -> assertThat(((FormatException) e).field()).isEqualTo("header_crc32"));
    }

    @Test
    void noGptAtAll() {
        assertThatThrownBy(() -> read(new byte[1 << 20])).isInstanceOf(FormatException.class).hasMessageContaining("EFI PART");
        assertThatThrownBy(() -> read(new byte[100])).isInstanceOf(FormatException.class).hasMessageContaining("too small");
    }

    /** Applies {@code change} to the entries in both arrays and fixes every CRC, so only the semantic check can object. */
    static byte[] both(java.util.function.BiConsumer<byte[], Integer> change) {
        byte[] b = valid.clone();
        for (boolean backup : new boolean[] {false, true}) {
            change.accept(b, GptImages.entry(b, 0, backup));
        }
        GptImages.fixBoth(b);
        return b;
    }

    @Test
    void invertedPartition() {
        byte[] b = both((img, array) -> LittleEndian.putU64(img, array + 128 + 0x28, 100));
        assertThatThrownBy(() -> read(b)).isInstanceOf(FormatException.class).hasMessageContaining("inverted")
                .satisfies(e -> assertThat(((FormatException) e).field()).isEqualTo("partition 2 first_lba..last_lba"));
    }

    @Test
    void overlappingPartitions() {
        byte[] b = both((img, array) -> LittleEndian.putU64(img, array + 128 + 0x20, 3000));
        assertThatThrownBy(() -> read(b)).isInstanceOf(FormatException.class).hasMessageContaining("overlap");
    }

    @Test
    void partitionPastTheEnd() {
        byte[] b = both((img, array) -> LittleEndian.putU64(img, array + 2 * 128 + 0x28, img.length / 512 + 5));
        assertThatThrownBy(() -> read(b)).isInstanceOf(FormatException.class).hasMessageContaining("outside the usable LBAs");
        byte[] c = both((img, array) -> LittleEndian.putU64(img, array + 0x28, -1L));
        assertThatThrownBy(() -> read(c)).isInstanceOf(FormatException.class);
    }

    @Test
    void absurdEntryCountsAndSizes() {
        for (long[] v : new long[][] {{0x50, 100_000}, {0x50, 0xFFFF_FFFFL}, {0x54, 64}, {0x54, 8192}, {0x54, 192}, {0x0C, 91},
            {0x0C, 513}, {0x48, 1L << 40}, {0x28, 1}, {0x30, 1L << 50}}) {
            byte[] b = valid.clone();
            for (int h : new int[] {512, b.length - 512}) {
                if (v[0] == 0x50 || v[0] == 0x54 || v[0] == 0x0C) {
                    LittleEndian.putU32(b, h + (int) v[0], v[1]);
                } else {
                    LittleEndian.putU64(b, h + (int) v[0], v[1]);
                }
            }
            GptImages.fixBoth(b);
            assertThatThrownBy(() -> read(b)).as("field 0x" + Long.toHexString(v[0]) + " = " + v[1]).isInstanceOf(FormatException.class);
        }
    }

    @Test
    void truncatedAndGrownImages() throws IOException {
        // the backup cut off: the primary still describes partitions inside the file
        GptTable shortened = read(Arrays.copyOf(valid, valid.length - 4096));
        assertThat(shortened.problems()).anyMatch(p -> p.contains("truncated"));
        assertThat(shortened.problems()).anyMatch(p -> p.contains("backup GPT unusable"));
        // cut into the usable area: the primary's LBAs lie past the end, and there is no backup
        byte[] cut = Arrays.copyOf(valid, valid.length - 64 * 1024);
        assertThatThrownBy(() -> read(cut)).isInstanceOf(FormatException.class).hasMessageContaining("outside the");
        byte[] deep = Arrays.copyOf(valid, 3 << 20);
        assertThatThrownBy(() -> read(deep)).isInstanceOf(FormatException.class);
        byte[] grown = Arrays.copyOf(valid, valid.length + (1 << 20));
        GptTable t = read(grown);
        assertThat(t.fromBackup()).isFalse();
        assertThat(t.problems()).anyMatch(p -> p.contains("alternate_lba") && p.contains("grown"));
        assertThat(t.backup()).isNotNull();
    }

    @Test
    void mbrDeviations() throws IOException {
        byte[] b = valid.clone();
        b[510] = 0;
        assertThat(read(b).problems()).anyMatch(p -> p.contains("55 AA"));
        byte[] h = valid.clone();
        h[446 + 16 + 4] = (byte) 0x83;
        assertThat(read(h).problems()).anyMatch(p -> p.contains("hybrid"));
    }

    @Test
    void inconsistentBackupIsAProblem() throws IOException {
        byte[] b = valid.clone();
        int name = GptImages.entry(b, 0, true) + 0x38;
        b[name] = 'E';
        GptImages.fixCrcs(b, b.length - 512, 512);
        GptTable t = read(b);
        assertThat(t.fromBackup()).isFalse();
        assertThat(t.entries().get(0).name()).isEqualTo("esp");
        assertThat(t.problems()).contains("primary and backup entry arrays differ");
    }
}
