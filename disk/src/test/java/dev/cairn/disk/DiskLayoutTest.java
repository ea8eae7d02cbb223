package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The planner against systemd-repart 252's placement and --size=auto (numbers from repart runs, ddi-sysext.md §3). */
class DiskLayoutTest {
    static final UUID DISK = UUID.fromString("a5c297da-ee09-4294-b4ec-5007a97cdfc3");

    static PartitionSpec part(DpsType t, long size) {
        return PartitionSpec.of(t, UUID.nameUUIDFromBytes((t.name() + size).getBytes()), 0, size, null);
    }

    @Test
    void ddiAsRepartPlacedIt() {
        // repart --json=pretty: esp @1048576 (35651584), root @36700160 (5242880), verity @41943040 (204800),
        // sig @42147840 (16384); "Automatically determined minimal disk image size as 40.2M" = 42184704 bytes
        DiskLayout l = DiskLayout.plan(DISK, List.of(part(DpsType.ESP, 35_651_584), part(DpsType.ROOT_X86_64, 5_242_880),
                part(DpsType.ROOT_X86_64_VERITY, 204_800), part(DpsType.ROOT_X86_64_VERITY_SIG, 16_384)), 0);
        assertThat(l.totalSize()).isEqualTo(42_184_704);
        assertThat(l.partitions()).extracting(PlacedPartition::offset).containsExactly(1_048_576L, 36_700_160L, 41_943_040L, 42_147_840L);
        assertThat(l.partitions()).extracting(PlacedPartition::firstLba).containsExactly(2048L, 71680L, 81920L, 82320L);
        assertThat(l.partitions()).extracting(PlacedPartition::lastLba).containsExactly(71679L, 81919L, 82319L, 82351L);
        assertThat(l.partitions()).extracting(PlacedPartition::number).containsExactly(1, 2, 3, 4);
        assertThat(l.firstUsableLba()).isEqualTo(2048);
        assertThat(l.lastUsableLba()).isEqualTo(82358);
        assertThat(l.backupEntriesLba()).isEqualTo(82359);
        assertThat(l.backupHeaderLba()).isEqualTo(82391);
    }

    @Test
    void autoSizeIsMetadataPlusPartitions() {
        assertThat(DiskLayout.autoSize(List.of())).isEqualTo(1_069_056);
        DiskLayout empty = DiskLayout.plan(DISK, List.of(), 0);
        assertThat(empty.totalSize()).isEqualTo(1_069_056);
        assertThat(empty.partitions()).isEmpty();
    }

    @Test
    void smallDisksStartAt4KiBLikeLibfdisk() {
        // repart: 1 MiB + 16 KiB partitions => 2134016 bytes, first-lba 34, partitions at LBA 40 and 2088
        DiskLayout l = DiskLayout.plan(DISK, List.of(part(DpsType.ROOT_X86_64, 1 << 20), part(DpsType.ROOT_X86_64_VERITY_SIG, 16_384)), 0);
        assertThat(l.totalSize()).isEqualTo(2_134_016);
        assertThat(l.firstUsableLba()).isEqualTo(34);
        assertThat(l.partitions()).extracting(PlacedPartition::firstLba).containsExactly(40L, 2088L);
        // exactly 4 MiB (8192 sectors) is still "small"; one grain more is not
        assertThat(DiskLayout.plan(DISK, List.of(part(DpsType.VAR, 4096)), 4L << 20).firstUsableLba()).isEqualTo(34);
        DiskLayout big = DiskLayout.plan(DISK, List.of(part(DpsType.VAR, 4096)), (4L << 20) + 4096);
        assertThat(big.firstUsableLba()).isEqualTo(2048);
        assertThat(big.partitions().get(0).offset()).isEqualTo(1 << 20);
    }

    @Test
    void minimumSizeIsRoundedUpTo4096AndVhdRoundingReplans() {
        DiskLayout l = DiskLayout.plan(DISK, List.of(part(DpsType.VAR, 8192)), 10_000_001);
        assertThat(l.totalSize()).isEqualTo(10_002_432);
        assertThat(l.lastUsableLba()).isEqualTo(10_002_432 / 512 - 34);
        DiskLayout small = DiskLayout.plan(DISK, List.of(part(DpsType.VAR, 8192)), 0);
        assertThat(small.firstUsableLba()).isEqualTo(34);
        DiskLayout vhd = small.withSizeRoundedTo(1 << 20);
        assertThat(vhd.totalSize()).isEqualTo(2 << 20);
        assertThat(vhd.partitions().get(0).firstLba()).isEqualTo(40);
        DiskLayout five = DiskLayout.plan(DISK, List.of(part(DpsType.VAR, 4L << 20)), 0).withSizeRoundedTo(1 << 20);
        assertThat(five.totalSize()).isEqualTo(6L << 20);
        assertThat(five.firstUsableLba()).isEqualTo(2048);
        assertThat(five.withSizeRoundedTo(1 << 20)).isSameAs(five);
        assertThatThrownBy(() -> five.withSizeRoundedTo(1000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DiskLayout.plan(DISK, List.of(), -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void partitionSpecRules() {
        UUID u = UUID.randomUUID();
        assertThat(new PartitionSpec(DpsType.VAR.uuid(), u, "x".repeat(36), 0, 4096, null).label()).hasSize(36);
        assertThatThrownBy(() -> new PartitionSpec(DpsType.VAR.uuid(), u, "x".repeat(37), 0, 4096, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("36");
        // 18 emoji = 36 UTF-16 code units: fits; one more does not
        assertThat(new PartitionSpec(DpsType.VAR.uuid(), u, "😀".repeat(18), 0, 4096, null).label()).hasSize(36);
        assertThatThrownBy(() -> new PartitionSpec(DpsType.VAR.uuid(), u, "😀".repeat(18) + "a", 0, 4096, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PartitionSpec(DpsType.VAR.uuid(), u, "a\0b", 0, 4096, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PartitionSpec(DpsType.VAR.uuid(), u, "v", 0, 4097, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PartitionSpec(DpsType.VAR.uuid(), u, "v", 0, 0, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PartitionSpec(new UUID(0, 0), u, "v", 0, 4096, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void limitsAndConsistency() {
        List<PartitionSpec> many = new ArrayList<>();
        for (int i = 0; i < 128; i++) {
            many.add(new PartitionSpec(DpsType.LINUX_GENERIC.uuid(), new UUID(1, i), "p" + i, 0, 4096, null));
        }
        DiskLayout l = DiskLayout.plan(DISK, many, 0);
        assertThat(l.partitions()).hasSize(128);
        assertThat(l.partitions().get(127).offset()).isEqualTo(20480 + 127 * 4096); // a small disk: starts at LBA 40
        many.add(new PartitionSpec(DpsType.LINUX_GENERIC.uuid(), new UUID(1, 999), "p", 0, 4096, null));
        assertThatThrownBy(() -> DiskLayout.plan(DISK, many, 0)).isInstanceOf(IllegalArgumentException.class);
        PartitionSpec a = new PartitionSpec(DpsType.VAR.uuid(), new UUID(2, 2), "a", 0, 4096, null);
        assertThatThrownBy(() -> DiskLayout.plan(DISK, List.of(a, a), 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("twice");
        PlacedPartition p1 = new PlacedPartition(1, a, 1 << 20, 2048, 2055);
        PlacedPartition overlapping = new PlacedPartition(2, new PartitionSpec(DpsType.VAR.uuid(), new UUID(3, 3), "b", 0, 4096, null),
                (1 << 20) + 2048, 2052, 2059);
        assertThatThrownBy(() -> new DiskLayout(DISK, 2 << 20, 2048, (2 << 20) / 512 - 34, List.of(p1, overlapping)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps");
        assertThatThrownBy(() -> new PlacedPartition(1, a, 1 << 20, 2048, 2048)).isInstanceOf(IllegalArgumentException.class);
    }
}
