package dev.cairn.verity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link VerityVerifier#verifyRegion}: data and tree checked in place inside one larger file, as a disk image's partitions. */
class RegionVerifyTest {
    static final UUID U = UUID.fromString("12345678-1234-4234-8234-123456789abc");

    @TempDir
    Path dir;

    @Test
    void dataAndTreeInsideADiskVerifyInPlaceAndAFlippedByteIsFound() throws IOException {
        Path data = dir.resolve("data");
        Path hash = dir.resolve("hash");
        Files.write(data, SeededData.bytes(5, 300 * 4096));
        VerityResult r = VerityFormatter.format(data, hash, VerityParams.defaults(new byte[32], U), 2, VerityProgress.NONE);
        // a "disk": 1 MiB head, the data partition, a gap, the hash partition, a tail
        Path disk = dir.resolve("disk");
        byte[] d = Files.readAllBytes(data);
        byte[] h = Files.readAllBytes(hash);
        long dataOff = 1 << 20;
        long hashOff = dataOff + d.length + 8192;
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(hashOff + h.length + 4096);
            f.seek(dataOff);
            f.write(d);
            f.seek(hashOff);
            f.write(h);
        }
        assertThat(VerityVerifier.verifyRegion(disk, dataOff, d.length, disk, hashOff, h.length, r.rootHash(), 2))
                .isInstanceOf(VerifyResult.Intact.class);
        byte[] other = r.rootHash().clone();
        other[0] ^= 1;
        assertThat(VerityVerifier.verifyRegion(disk, dataOff, d.length, disk, hashOff, h.length, other, 2)).isInstanceOf(VerifyResult.Corrupted.class);
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.seek(dataOff + 123 * 4096 + 7);
            int b = f.read();
            f.seek(dataOff + 123 * 4096 + 7);
            f.write(b ^ 0x40);
        }
        VerifyResult bad = VerityVerifier.verifyRegion(disk, dataOff, d.length, disk, hashOff, h.length, r.rootHash(), 2);
        assertThat(bad).isInstanceOf(VerifyResult.Corrupted.class);
        assertThat(((VerifyResult.Corrupted) bad).kind()).isEqualTo("data");
        assertThat(((VerifyResult.Corrupted) bad).block()).isEqualTo(123);
        assertThatThrownBy(() -> VerityVerifier.verifyRegion(disk, dataOff, 4096, disk, hashOff, h.length, r.rootHash(), 2))
                .isInstanceOf(FormatException.class).hasMessageContaining("data region");
        assertThatThrownBy(() -> VerityVerifier.verifyRegion(disk, Files.size(disk), 4096, disk, hashOff, h.length, r.rootHash(), 2))
                .isInstanceOf(FormatException.class).hasMessageContaining("outside");
        // a tree that runs past its partition (into the next one) is refused, though the file holds it
        assertThatThrownBy(() -> VerityVerifier.verifyRegion(disk, dataOff, d.length, disk, hashOff, h.length - 4096, r.rootHash(), 2))
                .isInstanceOf(FormatException.class).hasMessageContaining("hash region");
    }
}
