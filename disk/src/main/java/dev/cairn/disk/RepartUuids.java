package dev.cairn.disk;

import java.security.GeneralSecurityException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The UUIDs systemd-repart 252 derives from {@code --seed=UUID} (ddi-sysext.md §3.2;
 * {@code src/partition/repart.c} {@code derive_uuid}, {@code partition_acquire_uuid}), and the
 * DPS rule for verity partitions (§2.1). All byte strings are UUIDs in text (RFC 4122) order, as
 * in systemd's {@code sd_id128_t}.
 */
public final class RepartUuids {
    private RepartUuids() {
    }

    /** Disk GUID: v4(HMAC-SHA256(key = seed, msg = ASCII {@code "disk-uuid"})[0..15]). */
    public static UUID diskUuid(UUID seed) {
        Objects.requireNonNull(seed, "seed");
        return v4(hmac(Guids.textOrder(seed), "disk-uuid".getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * Partition UUID: v4(HMAC-SHA256(key = seed, msg = type)) for the first partition of a type
     * ({@code index} 0), and msg = type ‖ LE64(index) for the index-th later one, counting only
     * partitions of the same type in definition order.
     */
    public static UUID partitionUuid(UUID seed, UUID type, int index) {
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(type, "type");
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0: " + index);
        }
        byte[] t = Guids.textOrder(type);
        byte[] msg = t;
        if (index > 0) {
            msg = new byte[24];
            System.arraycopy(t, 0, msg, 0, 16);
            for (int i = 0; i < 8; i++) {
                msg[16 + i] = (byte) ((long) index >>> (8 * i));
            }
        }
        return v4(hmac(Guids.textOrder(seed), msg));
    }

    /** File system UUID repart gives a partition it formats: v4(HMAC-SHA256(partition UUID, {@code "file-system-uuid"})). */
    public static UUID fileSystemUuid(UUID partitionUuid) {
        Objects.requireNonNull(partitionUuid, "partitionUuid");
        return v4(hmac(Guids.textOrder(partitionUuid), "file-system-uuid".getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * FAT volume id (serial number) repart passes to {@code mkfs.vfat -i}: the first 4 bytes of
     * {@link #fileSystemUuid} read big-endian ({@code mkfs-util.c} prints them as {@code %08x}),
     * so fs UUID {@code 26aad50e-…} gives volume id {@code 0x26AAD50E}, shown as {@code 26AA-D50E}
     * and stored little-endian in the boot sector.
     */
    public static int fatVolumeId(UUID partitionUuid) {
        return (int) (fileSystemUuid(partitionUuid).getMostSignificantBits() >>> 32);
    }

    /**
     * DPS §verity: the data partition's UUID is the first 128 bits of the root hash, the hash
     * partition's the last 128 bits ({@code second}), bytes copied as they are (no v4 bits).
     *
     * @param rootHash at least 32 bytes (sha256 or longer)
     */
    public static UUID fromRootHashHalf(byte[] rootHash, boolean second) {
        Objects.requireNonNull(rootHash, "rootHash");
        if (rootHash.length < 32) {
            throw new IllegalArgumentException("root hash must be at least 32 bytes, got " + rootHash.length);
        }
        return Guids.fromTextOrder(rootHash, second ? rootHash.length - 16 : 0);
    }

    private static byte[] hmac(byte[] key, byte[] msg) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(msg);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }

    /** The first 16 bytes as a UUID with the version-4 and RFC 4122 variant bits set ({@code id128_make_v4_uuid}). */
    private static UUID v4(byte[] md) {
        byte[] b = java.util.Arrays.copyOf(md, 16);
        b[6] = (byte) ((b[6] & 0x0F) | 0x40);
        b[8] = (byte) ((b[8] & 0x3F) | 0x80);
        return Guids.fromTextOrder(b, 0);
    }
}
