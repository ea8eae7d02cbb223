package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.Golden;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cairn's GPT against systemd-repart 252 (libfdisk 2.38), sfdisk and sgdisk: the same partitions,
 * written by repart with {@code CopyBlocks=} and fixed sizes, give a byte-identical image — every
 * byte of it: protective MBR, both headers, both entry arrays, the partitions and the gaps.
 */
class GptOracleIT {
    static final UUID SEED = UUID.fromString("0f6e5cf2-8a3e-4b7e-9e1a-1c2d3e4f5a6b");
    static ToolOracle repart;
    static ToolOracle sfdisk;
    static ToolOracle sgdisk;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        repart = Repart.tool();
        sfdisk = ToolOracle.require("sfdisk", "fdisk");
        sgdisk = ToolOracle.require("sgdisk", "gdisk");
    }

    /** ESP (a real FAT32 from Fat32Writer), root, verity hash and signature partitions, like a signed DDI. */
    List<PartitionSpec> ddi(long rootContent) throws IOException {
        Path esp = dir.resolve("esp.img");
        try (Fat32Writer w = new Fat32Writer(34 << 20, RepartUuids.fatVolumeId(espUuid()), "ESP", 1_700_000_000L);
             FileChannel ch = FileChannel.open(esp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            w.addFile("/EFI/BOOT/BOOTX64.EFI", SeededData.bytes(1, 70_000));
            w.addFile("/EFI/Linux/cairn_1.0-x86-64.efi", SeededData.bytes(2, 123_457));
            w.finish(ch);
        }
        Path root = dir.resolve("root.img");
        SeededData.writeFile(root, 3, rootContent);
        Path hash = dir.resolve("hash.img");
        SeededData.writeFile(hash, 4, 200_704);
        byte[] rootHash = SeededData.bytes(5, 32);
        Path sig = dir.resolve("sig.img");
        byte[] json = ("{\"rootHash\":\"" + HexFormat.of().formatHex(rootHash) + "\",\"signature\":\"AAAA\"}")
                .getBytes(StandardCharsets.US_ASCII);
        Files.write(sig, java.util.Arrays.copyOf(json, 4096));
        long ro = DpsType.READ_ONLY;
        return List.of(
                PartitionSpec.of(DpsType.ESP, espUuid(), 0, 34 << 20, esp),
                new PartitionSpec(DpsType.ROOT_X86_64.uuid(), RepartUuids.fromRootHashHalf(rootHash, false), "cairn_1.0", ro,
                        8 << 20, root),
                new PartitionSpec(DpsType.ROOT_X86_64_VERITY.uuid(), RepartUuids.fromRootHashHalf(rootHash, true),
                        "cairn_1.0-verity", ro, 204_800, hash),
                new PartitionSpec(DpsType.ROOT_X86_64_VERITY_SIG.uuid(),
                        RepartUuids.partitionUuid(SEED, DpsType.ROOT_X86_64_VERITY_SIG.uuid(), 0), "sig ünïcødé ✓", ro,
                        16_384, sig));
    }

    static UUID espUuid() {
        return RepartUuids.partitionUuid(SEED, DpsType.ESP.uuid(), 0);
    }

    Path writeCairn(DiskLayout layout, String name) throws IOException {
        Path img = dir.resolve(name + ".cairn.raw");
        GptWriter.write(layout, img);
        return img;
    }

    @Test
    void ddiIsByteIdenticalToRepartAndSfdiskAgrees() throws IOException {
        List<PartitionSpec> parts = ddi(5_000_192);
        DiskLayout layout = DiskLayout.plan(RepartUuids.diskUuid(SEED), parts, 0);
        Path ours = writeCairn(layout, "ddi");
        Path theirs = Repart.run(repart, dir, "ddi", SEED, parts, "auto");
        assertThat(Files.size(ours)).isEqualTo(Files.size(theirs)).isEqualTo(layout.totalSize());
        Golden.assertFilesEqual(theirs, ours);

        JsonNode t = new ObjectMapper().readTree(sfdisk.runOk("--json", ours.toString()).stdout()).get("partitiontable");
        assertThat(t.get("label").asText()).isEqualTo("gpt");
        assertThat(t.get("id").asText()).isEqualTo(layout.diskGuid().toString().toUpperCase(Locale.ROOT));
        assertThat(t.get("firstlba").asLong()).isEqualTo(2048);
        assertThat(t.get("lastlba").asLong()).isEqualTo(layout.lastUsableLba());
        assertThat(t.get("sectorsize").asInt()).isEqualTo(512);
        JsonNode ps = t.get("partitions");
        assertThat(ps.size()).isEqualTo(parts.size());
        for (PlacedPartition p : layout.partitions()) {
            JsonNode j = ps.get(p.number() - 1);
            assertThat(j.get("start").asLong()).isEqualTo(p.firstLba());
            assertThat(j.get("size").asLong()).isEqualTo(p.size() / 512);
            assertThat(j.get("type").asText()).isEqualTo(p.spec().type().toString().toUpperCase(Locale.ROOT));
            assertThat(j.get("uuid").asText()).isEqualTo(p.spec().uuid().toString().toUpperCase(Locale.ROOT));
            assertThat(j.get("name").asText()).isEqualTo(p.spec().label());
            String attrs = j.has("attrs") ? j.get("attrs").asText() : "";
            assertThat(attrs).isEqualTo(p.spec().attributes() == 0 ? "" : "GUID:60");
        }
        assertThat(sgdisk.runOk("-v", ours.toString()).stdout()).contains("No problems found");

        GptTable read;
        try (FileChannel ch = FileChannel.open(ours)) {
            read = GptReader.read(ch);
        }
        assertThat(read.problems()).isEmpty();
        assertThat(read.diskGuid()).isEqualTo(layout.diskGuid());
        assertThat(read.entries()).hasSize(4);
        assertThat(read.entries().get(3).name()).isEqualTo("sig ünïcødé ✓");
    }

    @Test
    void smallDiskStartsAtLba40LikeLibfdisk() throws IOException {
        // A disk of at most 4 MiB: libfdisk drops its 1 MiB alignment (first usable LBA 34), repart starts at 4 KiB.
        Path root = dir.resolve("small.img");
        SeededData.writeFile(root, 9, 1 << 20);
        List<PartitionSpec> parts = List.of(
                PartitionSpec.of(DpsType.ROOT_ARM64, RepartUuids.partitionUuid(SEED, DpsType.ROOT_ARM64.uuid(), 0), DpsType.READ_ONLY,
                        1 << 20, root),
                PartitionSpec.of(DpsType.ROOT_ARM64_VERITY_SIG, RepartUuids.partitionUuid(SEED, DpsType.ROOT_ARM64_VERITY_SIG.uuid(), 0),
                        0, 16_384, null));
        DiskLayout layout = DiskLayout.plan(RepartUuids.diskUuid(SEED), parts, 0);
        assertThat(layout.firstUsableLba()).isEqualTo(34);
        assertThat(layout.partitions().get(0).firstLba()).isEqualTo(40);
        Path ours = writeCairn(layout, "small");
        Path theirs = Repart.run(repart, dir, "small", SEED, parts, "auto");
        Golden.assertFilesEqual(theirs, ours);
        assertThat(sgdisk.runOk("-v", ours.toString()).stdout()).contains("No problems found");
    }

    @Test
    void explicitSizeAndVhdRoundingMatchRepartSize() throws IOException {
        // Two partitions of one type (the second's UUID uses the LE64 counter), a generic partition with no content,
        // and a disk rounded up to 1 MiB as for a VHD: repart --size=<that> gives the same bytes.
        Path a = dir.resolve("a.img");
        SeededData.writeFile(a, 11, 12_288);
        List<PartitionSpec> parts = new ArrayList<>();
        UUID lg = DpsType.LINUX_GENERIC.uuid();
        parts.add(new PartitionSpec(lg, RepartUuids.partitionUuid(SEED, lg, 0), "one", DpsType.NO_AUTO, 5 << 20, a));
        parts.add(new PartitionSpec(lg, RepartUuids.partitionUuid(SEED, lg, 1), "two", 0, 4096 * 3, null));
        parts.add(PartitionSpec.of(DpsType.VAR, RepartUuids.partitionUuid(SEED, DpsType.VAR.uuid(), 0), DpsType.GROW_FS, 1 << 20, a));
        DiskLayout layout = DiskLayout.plan(RepartUuids.diskUuid(SEED), parts, 0).withSizeRoundedTo(1 << 20);
        assertThat(layout.totalSize() % (1 << 20)).isZero();
        Path ours = writeCairn(layout, "rounded");
        Path theirs = Repart.run(repart, dir, "rounded", SEED, parts, Long.toString(layout.totalSize()));
        Golden.assertFilesEqual(theirs, ours);
        JsonNode ps = new ObjectMapper().readTree(sfdisk.runOk("--json", ours.toString()).stdout()).get("partitiontable")
                .get("partitions");
        assertThat(ps.get(0).get("attrs").asText()).isEqualTo("GUID:63");
        assertThat(ps.get(2).get("attrs").asText()).isEqualTo("GUID:59");
        assertThat(sgdisk.runOk("-v", ours.toString()).stdout()).contains("No problems found");
    }
}
