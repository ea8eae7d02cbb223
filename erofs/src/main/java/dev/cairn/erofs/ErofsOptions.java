package dev.cairn.erofs;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import java.util.UUID;

/**
 * Options of a tar-to-EROFS conversion. The writer reproduces mkfs.erofs 1.8's
 * {@code --tar=f --aufs -Enoinline_data -b4096 --sort=none} layout, or with {@code tarIndex} its
 * {@code --tar=i --aufs --sort=none} tar index (512-byte blocks); what varies is the volume UUID
 * ({@code -U}) and the build time ({@code -T<t> --mkfs-time}: the superblock's time; inode times
 * come from the tar). Caps bound what a hostile tar can make the writer do.
 *
 * @param uuid volume UUID ({@code -U})
 * @param buildTime superblock build time in seconds since the epoch ({@code -T}; containerd: 0)
 * @param maxEntries most tar entries accepted
 * @param maxFileSize largest regular file accepted, in bytes
 * @param tarIndex tar-index mode ({@code --tar=i} instead of {@code --tar=f -Enoinline_data -b4096}):
 *     512-byte blocks, metadata only, regular files point into the tar appended after the image
 */
public record ErofsOptions(UUID uuid, long buildTime, long maxEntries, long maxFileSize, boolean tarIndex) {
    /** RFC 4122 name space for URLs ({@code 6ba7b811-9dad-11d1-80b4-00c04fd430c8}). */
    public static final UUID NAMESPACE_URL = UUID.fromString("6ba7b811-9dad-11d1-80b4-00c04fd430c8");
    public static final long DEFAULT_MAX_ENTRIES = 1L << 22;
    public static final long DEFAULT_MAX_FILE_SIZE = 1L << 40;

    public ErofsOptions {
        Objects.requireNonNull(uuid, "uuid");
        if (buildTime < 0) {
            throw new IllegalArgumentException("buildTime must not be negative: " + buildTime);
        }
        if (maxEntries < 1 || maxFileSize < 0) {
            throw new IllegalArgumentException("caps must be positive");
        }
    }

    /** Full-conversion options ({@code --tar=f}). */
    public ErofsOptions(UUID uuid, long buildTime, long maxEntries, long maxFileSize) {
        this(uuid, buildTime, maxEntries, maxFileSize, false);
    }

    /** The same options in tar-index mode ({@code --tar=i}) or in full mode ({@code --tar=f}). */
    public ErofsOptions withTarIndex(boolean on) {
        return new ErofsOptions(uuid, buildTime, maxEntries, maxFileSize, on);
    }

    /**
     * containerd's tar-index conversion of a layer (erofs differ with {@code enable_tar_index}):
     * {@code mkfs.erofs --tar=i --aufs --quiet -b4096 -T0 --mkfs-time --sort=none -U <uuid>} (the
     * {@code -b4096} containerd adds is overridden by {@code --tar=i}, which forces 512-byte blocks).
     */
    public static ErofsOptions containerdTarIndex(String layerDigest) {
        return containerd(layerDigest).withTarIndex(true);
    }

    /** Default caps, the given UUID and build time. */
    public static ErofsOptions of(UUID uuid, long buildTime) {
        return new ErofsOptions(uuid, buildTime, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_FILE_SIZE);
    }

    /**
     * containerd's conversion of a layer (erofs differ, reproducible configuration {@code -T0 --mkfs-time}):
     * UUID = UUIDv5(NameSpaceURL, "erofs:blobs/" + layer digest), build time 0.
     */
    public static ErofsOptions containerd(String layerDigest) {
        return of(uuidV5(NAMESPACE_URL, "erofs:blobs/" + layerDigest), 0);
    }

    /** RFC 4122 version 5 (SHA-1, name based) UUID. */
    public static UUID uuidV5(UUID namespace, String name) {
        MessageDigest sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
        byte[] ns = new byte[16];
        long msb = namespace.getMostSignificantBits();
        long lsb = namespace.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            ns[i] = (byte) (msb >>> (56 - 8 * i));
            ns[8 + i] = (byte) (lsb >>> (56 - 8 * i));
        }
        sha1.update(ns);
        byte[] h = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
        h[6] = (byte) ((h[6] & 0x0F) | 0x50);
        h[8] = (byte) ((h[8] & 0x3F) | 0x80);
        long m = 0;
        long l = 0;
        for (int i = 0; i < 8; i++) {
            m = (m << 8) | (h[i] & 0xFF);
            l = (l << 8) | (h[8 + i] & 0xFF);
        }
        return new UUID(m, l);
    }
}
