package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cairn disk plus VhdFooter against qemu-img 7.2: the exact virtual size, the same bytes as the
 * raw disk, and a footer qemu itself writes decodes (and re-encodes) through the same record.
 */
class VhdOracleIT {
    static ToolOracle qemuImg;

    @TempDir
    Path dir;

    @BeforeAll
    static void tool() {
        qemuImg = ToolOracle.require("qemu-img", "qemu-utils");
    }

    @Test
    void qemuSeesTheExactSizeAndTheSameBytes() throws IOException {
        Path content = dir.resolve("root");
        SeededData.writeFile(content, 8, 3_000_000);
        DiskLayout l = DiskLayout.plan(RepartUuids.diskUuid(new UUID(1, 2)), List.of(
                PartitionSpec.of(DpsType.ROOT_X86_64, new UUID(4, 4), DpsType.READ_ONLY, 3_002_368, content)), 0)
                .withSizeRoundedTo(VhdFooter.SIZE_ALIGNMENT);
        Path raw = dir.resolve("disk.raw");
        DiskResult r = GptWriter.write(l, raw);
        assertThat(r.totalSize()).isEqualTo(4L << 20);
        Path vhd = dir.resolve("disk.vhd");
        Files.copy(raw, vhd, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(vhd, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(VhdFooter.fixed(r.totalSize(), new UUID(9, 9), 1_700_000_000L)), r.totalSize());
        }
        assertThat(Files.size(vhd)).isEqualTo(r.totalSize() + 512);
        JsonNode info = new ObjectMapper().readTree(qemuImg.runOk("info", "-f", "vpc", "--output=json", vhd.toString()).stdout());
        assertThat(info.get("format").asText()).isEqualTo("vpc");
        assertThat(info.get("virtual-size").asLong()).isEqualTo(r.totalSize());
        assertThat(qemuImg.runOk("compare", "-f", "vpc", "-F", "raw", "-s", vhd.toString(), raw.toString()).stdout())
                .contains("Images are identical");
    }

    @Test
    void sizesWhereChsWouldLoseSectors() throws IOException {
        // 22 056 960 bytes is the size for which 'cair' gave 22 038 528 (CHS) in ddi-sysext.md §6; here 1 MiB multiples
        for (long mib : new long[] {21, 22, 127, 1000}) {
            long size = mib << 20;
            Path vhd = dir.resolve(mib + ".vhd");
            try (FileChannel ch = FileChannel.open(vhd, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(VhdFooter.fixed(size, new UUID(mib, 1), 0)), size);
            }
            JsonNode info = new ObjectMapper().readTree(qemuImg.runOk("info", "-f", "vpc", "--output=json", vhd.toString()).stdout());
            assertThat(info.get("virtual-size").asLong()).as(mib + " MiB").isEqualTo(size);
            VhdFooter f = VhdFooter.forFixedDisk(size, new UUID(mib, 1), 0);
            assertThat((long) f.cylinders() * f.heads() * f.sectorsPerTrack() * 512).as("CHS covers at most the disk").isLessThanOrEqualTo(size);
        }
    }

    @Test
    void qemusOwnFooterDecodes() throws IOException {
        Path raw = dir.resolve("q.raw");
        SeededData.writeFile(raw, 3, 3L << 20);
        Path vhd = dir.resolve("q.vhd");
        qemuImg.runOk("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size", raw.toString(), vhd.toString());
        byte[] all = Files.readAllBytes(vhd);
        byte[] footer = java.util.Arrays.copyOfRange(all, all.length - 512, all.length);
        VhdFooter f = VhdFooter.decode(footer);
        assertThat(f.currentSize()).isEqualTo(3L << 20);
        assertThat(f.creatorApplication()).isEqualTo("qem2");
        assertThat(f.diskType()).isEqualTo(VhdFooter.DISK_TYPE_FIXED);
        assertThat(f.encode()).isEqualTo(footer);
        // ours for the same size differs only in time stamp, creator version, CHS, checksum and unique id
        byte[] ours = VhdFooter.fixed(3L << 20, f.uniqueId(), VhdFooter.VHD_EPOCH + f.timestamp());
        for (int i = 0; i < 512; i++) {
            boolean mayDiffer = (i >= 0x20 && i < 0x24) || (i >= 0x38 && i < 0x3C) || (i >= 0x40 && i < 0x44);
            if (!mayDiffer) {
                assertThat(ours[i]).as("byte 0x" + Integer.toHexString(i)).isEqualTo(footer[i]);
            }
        }
    }
}
