package dev.cairn.disk;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Partition type GUIDs of the Discoverable Partitions Specification (UAPI.2), with the names
 * systemd uses for them ({@code Type=} in repart.d, the default partition label), as in
 * systemd 252's {@code src/systemd/sd-gpt.h} and {@code src/shared/gpt.c}. Only the x86-64 and
 * arm64 architectures are listed; {@link #of(UUID)} returns empty for any other type.
 *
 * <p>The attribute bit constants are the GPT partition attribute flags systemd defines (bits 0-2
 * are UEFI's, 59-63 are DPS's).
 */
public enum DpsType {
    ROOT_X86_64("root-x86-64", "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", Arch.X86_64, Role.ROOT),
    ROOT_X86_64_VERITY("root-x86-64-verity", "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", Arch.X86_64, Role.ROOT_VERITY),
    ROOT_X86_64_VERITY_SIG("root-x86-64-verity-sig", "41092b05-9fc8-4523-994f-2def0408b176", Arch.X86_64, Role.ROOT_VERITY_SIG),
    USR_X86_64("usr-x86-64", "8484680c-9521-48c6-9c11-b0720656f69e", Arch.X86_64, Role.USR),
    USR_X86_64_VERITY("usr-x86-64-verity", "77ff5f63-e7b6-4633-acf4-1565b864c0e6", Arch.X86_64, Role.USR_VERITY),
    USR_X86_64_VERITY_SIG("usr-x86-64-verity-sig", "e7bb33fb-06cf-4e81-8273-e543b413e2e2", Arch.X86_64, Role.USR_VERITY_SIG),
    ROOT_ARM64("root-arm64", "b921b045-1df0-41c3-af44-4c6f280d3fae", Arch.ARM64, Role.ROOT),
    ROOT_ARM64_VERITY("root-arm64-verity", "df3300ce-d69f-4c92-978c-9bfb0f38d820", Arch.ARM64, Role.ROOT_VERITY),
    ROOT_ARM64_VERITY_SIG("root-arm64-verity-sig", "6db69de6-29f4-4758-a7a5-962190f00ce3", Arch.ARM64, Role.ROOT_VERITY_SIG),
    USR_ARM64("usr-arm64", "b0e01050-ee5f-4390-949a-9101b17104e9", Arch.ARM64, Role.USR),
    USR_ARM64_VERITY("usr-arm64-verity", "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", Arch.ARM64, Role.USR_VERITY),
    USR_ARM64_VERITY_SIG("usr-arm64-verity-sig", "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a", Arch.ARM64, Role.USR_VERITY_SIG),
    ESP("esp", "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", null, Role.ESP),
    XBOOTLDR("xbootldr", "bc13c2ff-59e6-4262-a352-b275fd6f7172", null, Role.XBOOTLDR),
    SWAP("swap", "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", null, Role.SWAP),
    HOME("home", "933ac7e1-2eb4-4f13-b844-0e14e2aef915", null, Role.HOME),
    SRV("srv", "3b8f8425-20e0-4f3b-907f-1a25a76f98e8", null, Role.SRV),
    VAR("var", "4d21b016-b534-45c2-a9fb-5c16e091fd2d", null, Role.VAR),
    TMP("tmp", "7ec6f557-3bc5-4aca-b293-16ef5df639d1", null, Role.TMP),
    USER_HOME("user-home", "773f91ef-66d4-49b5-bd83-d683bf40ad16", null, Role.USER_HOME),
    LINUX_GENERIC("linux-generic", "0fc63daf-8483-4772-8e79-3d69d8477de4", null, Role.LINUX_GENERIC);

    /** UEFI: the platform needs this partition to function (bit 0). */
    public static final long REQUIRED = 1L;
    /** UEFI: no EFI_BLOCK_IO_PROTOCOL for this partition (bit 1). */
    public static final long NO_BLOCK_IO_PROTOCOL = 1L << 1;
    /** UEFI: legacy BIOS bootable (bit 2). */
    public static final long LEGACY_BIOS_BOOTABLE = 1L << 2;
    /** DPS: grow the file system to the partition on first mount (bit 59). */
    public static final long GROW_FS = 1L << 59;
    /** DPS: mount read-only (bit 60); DPS recommends it for verity and signature partitions. */
    public static final long READ_ONLY = 1L << 60;
    /** DPS: do not mount automatically (bit 63). */
    public static final long NO_AUTO = 1L << 63;

    /** CPU architecture of an architecture-specific type. */
    public enum Arch {
        X86_64("x86-64"), ARM64("arm64");

        private final String systemdName;

        Arch(String systemdName) {
            this.systemdName = systemdName;
        }

        /** The architecture as systemd spells it ({@code uname -m} style: {@code x86-64}, {@code arm64}). */
        public String systemdName() {
            return systemdName;
        }
    }

    /** What the partition is for, independent of the architecture. */
    public enum Role {
        ROOT, ROOT_VERITY, ROOT_VERITY_SIG, USR, USR_VERITY, USR_VERITY_SIG, ESP, XBOOTLDR, SWAP, HOME, SRV, VAR,
        TMP, USER_HOME, LINUX_GENERIC
    }

    private static final Map<UUID, DpsType> BY_UUID = new HashMap<>();
    private static final Map<String, DpsType> BY_NAME = new HashMap<>();

    static {
        for (DpsType t : values()) {
            BY_UUID.put(t.uuid, t);
            BY_NAME.put(t.systemdName, t);
        }
    }

    private final String systemdName;
    private final UUID uuid;
    private final Arch arch;
    private final Role role;

    DpsType(String systemdName, String uuid, Arch arch, Role role) {
        this.systemdName = systemdName;
        this.uuid = UUID.fromString(uuid);
        this.arch = arch;
        this.role = role;
    }

    /** The type GUID (text form; on disk it is stored mixed-endian). */
    public UUID uuid() {
        return uuid;
    }

    /** systemd's name: {@code root-x86-64}, {@code root-x86-64-verity-sig}, {@code esp}, … (repart's default label). */
    public String systemdName() {
        return systemdName;
    }

    /** The architecture, or empty for architecture-independent types (ESP, var, …). */
    public Optional<Arch> arch() {
        return Optional.ofNullable(arch);
    }

    public Role role() {
        return role;
    }

    /**
     * The attribute bits systemd-repart 252 gives a partition of this type when its definition sets
     * none of {@code ReadOnly=}, {@code GrowFileSystem=}, {@code Flags=} or {@code Verity=}
     * ({@code partition_read_definition}): {@link #READ_ONLY} on root and usr verity partitions
     * ("Verity partitions are read only"), {@link #GROW_FS} on root, usr, home, srv, var, tmp and
     * xbootldr partitions, which are not read-only then ({@code gpt_partition_type_knows_growfs});
     * nothing on the others (ESP, verity signature, swap, linux-generic, ...).
     */
    public long repartDefaultAttributes() {
        return switch (role) {
            case ROOT_VERITY, USR_VERITY -> READ_ONLY;
            case ROOT, USR, HOME, SRV, VAR, TMP, XBOOTLDR -> GROW_FS;
            default -> 0;
        };
    }

    /** The type with this GUID, or empty for a type this enum does not list. */
    public static Optional<DpsType> of(UUID typeGuid) {
        return Optional.ofNullable(BY_UUID.get(Objects.requireNonNull(typeGuid, "typeGuid")));
    }

    /** The type systemd calls {@code name} (architecture-qualified names only: {@code root-x86-64}, not {@code root}). */
    public static Optional<DpsType> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(Objects.requireNonNull(name, "name")));
    }

    /** The architecture-specific type for a role (ROOT, USR and their verity/signature roles only). */
    public static DpsType of(Role role, Arch arch) {
        for (DpsType t : values()) {
            if (t.role == role && t.arch == arch) {
                return t;
            }
        }
        throw new IllegalArgumentException("no " + role + " type for architecture " + arch);
    }
}
