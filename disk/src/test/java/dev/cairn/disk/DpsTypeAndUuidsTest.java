package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * DPS types and systemd-repart 252's UUID derivations against the values ddi-sysext.md §3.2
 * VERIFIED with repart itself (seed 0f6e5cf2-…): disk GUID, ESP and signature partition UUIDs
 * and the ESP's FAT serial 26AA-D50E (repart printed "uuid 26aad50e" formatting that ESP); the
 * GptOracleIT checks the same derivations against a live repart run.
 */
class DpsTypeAndUuidsTest {
    static final UUID SEED = UUID.fromString("0f6e5cf2-8a3e-4b7e-9e1a-1c2d3e4f5a6b");

    @Test
    void typesHaveTheirGuidsAndSystemdNames() {
        assertThat(DpsType.ROOT_X86_64.uuid()).isEqualTo(UUID.fromString("4f68bce3-e8cd-4db1-96e7-fbcaf984b709"));
        assertThat(DpsType.ROOT_X86_64_VERITY_SIG.systemdName()).isEqualTo("root-x86-64-verity-sig");
        assertThat(DpsType.USR_ARM64_VERITY.uuid()).isEqualTo(UUID.fromString("6e11a4e7-fbca-4ded-b9e9-e1a512bb664e"));
        assertThat(DpsType.ESP.systemdName()).isEqualTo("esp");
        assertThat(DpsType.ESP.arch()).isEmpty();
        assertThat(DpsType.ROOT_ARM64.arch()).contains(DpsType.Arch.ARM64);
        assertThat(DpsType.of(UUID.fromString("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"))).contains(DpsType.ESP);
        assertThat(DpsType.of(UUID.fromString("0fc63daf-8483-4772-8e79-3d69d8477de4"))).contains(DpsType.LINUX_GENERIC);
        assertThat(DpsType.of(UUID.randomUUID())).isEmpty();
        assertThat(DpsType.byName("xbootldr")).contains(DpsType.XBOOTLDR);
        assertThat(DpsType.of(DpsType.Role.ROOT_VERITY, DpsType.Arch.X86_64)).isEqualTo(DpsType.ROOT_X86_64_VERITY);
        Set<UUID> guids = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (DpsType t : DpsType.values()) {
            assertThat(guids.add(t.uuid())).as(t.name()).isTrue();
            assertThat(names.add(t.systemdName())).as(t.name()).isTrue();
            assertThat(t.systemdName()).isEqualTo(t.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        }
    }

    @Test
    void attributeBitsAreSystemds() {
        assertThat(DpsType.READ_ONLY).isEqualTo(0x1000_0000_0000_0000L);
        assertThat(DpsType.NO_AUTO).isEqualTo(0x8000_0000_0000_0000L);
        assertThat(DpsType.GROW_FS).isEqualTo(0x0800_0000_0000_0000L);
        assertThat(DpsType.REQUIRED).isEqualTo(1L);
    }

    @Test
    void repartDefaultAttributesAreRepart252s() {
        // repart.c partition_read_definition: verity partitions read-only, growfs on unless read-only (gpt.c knows_growfs)
        assertThat(DpsType.ROOT_X86_64_VERITY.repartDefaultAttributes()).isEqualTo(DpsType.READ_ONLY);
        assertThat(DpsType.USR_ARM64_VERITY.repartDefaultAttributes()).isEqualTo(DpsType.READ_ONLY);
        for (DpsType t : new DpsType[] {DpsType.ROOT_X86_64, DpsType.USR_ARM64, DpsType.HOME, DpsType.SRV, DpsType.VAR, DpsType.TMP,
            DpsType.XBOOTLDR}) {
            assertThat(t.repartDefaultAttributes()).as(t.systemdName()).isEqualTo(DpsType.GROW_FS);
        }
        for (DpsType t : new DpsType[] {DpsType.ESP, DpsType.ROOT_X86_64_VERITY_SIG, DpsType.SWAP, DpsType.LINUX_GENERIC,
            DpsType.USER_HOME}) {
            assertThat(t.repartDefaultAttributes()).as(t.systemdName()).isZero();
        }
    }

    @Test
    void repartSeedDerivations() {
        assertThat(RepartUuids.diskUuid(SEED)).isEqualTo(UUID.fromString("a5c297da-ee09-4294-b4ec-5007a97cdfc3"));
        UUID esp = RepartUuids.partitionUuid(SEED, DpsType.ESP.uuid(), 0);
        assertThat(esp).isEqualTo(UUID.fromString("1247aedf-fbfd-4386-bb42-40ec6b712257"));
        assertThat(RepartUuids.partitionUuid(SEED, DpsType.ROOT_X86_64_VERITY_SIG.uuid(), 0))
                .isEqualTo(UUID.fromString("376ad9c4-7698-480f-b1c7-d29c6ee4203d"));
        assertThat(RepartUuids.partitionUuid(SEED, DpsType.ROOT_X86_64.uuid(), 0))
                .isEqualTo(UUID.fromString("8d658e63-b80f-4d1d-9959-1bab4b4345fa"));
        // the second linux-generic partition: HMAC over type ‖ LE64(1) (checked against repart in GptOracleIT)
        assertThat(RepartUuids.partitionUuid(SEED, DpsType.LINUX_GENERIC.uuid(), 1))
                .isEqualTo(UUID.fromString("5a9b5724-4fcf-4d93-b55c-093993d74dde"));
        assertThat(RepartUuids.fileSystemUuid(esp)).isEqualTo(UUID.fromString("26aad50e-8ee0-40dd-adbf-673db5532190"));
        assertThat(RepartUuids.fatVolumeId(esp)).isEqualTo(0x26AAD50E);
        for (UUID u : new UUID[] {RepartUuids.diskUuid(SEED), esp, RepartUuids.fileSystemUuid(esp)}) {
            assertThat(u.version()).isEqualTo(4);
            assertThat(u.variant()).isEqualTo(2);
        }
        assertThatThrownBy(() -> RepartUuids.partitionUuid(SEED, DpsType.ESP.uuid(), -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void verityUuidsAreTheRootHashHalvesAsTheyAre() {
        byte[] hash = HexFormat.of().parseHex("ea38db0c8707c10e71d0feb6d4fdfc06" + "0123456789abcdef0f1e2d3c4b5a6978");
        assertThat(RepartUuids.fromRootHashHalf(hash, false)).isEqualTo(UUID.fromString("ea38db0c-8707-c10e-71d0-feb6d4fdfc06"));
        assertThat(RepartUuids.fromRootHashHalf(hash, true)).isEqualTo(UUID.fromString("01234567-89ab-cdef-0f1e-2d3c4b5a6978"));
        byte[] sha512 = new byte[64];
        sha512[48] = 0x7f;
        assertThat(RepartUuids.fromRootHashHalf(sha512, true).toString()).startsWith("7f000000-");
        assertThatThrownBy(() -> RepartUuids.fromRootHashHalf(new byte[20], false)).isInstanceOf(IllegalArgumentException.class);
    }
}
