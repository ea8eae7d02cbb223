package dev.cairn.pipeline.disk;

import dev.cairn.disk.DpsType;
import dev.cairn.disk.PartitionSpec;
import dev.cairn.disk.RepartUuids;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.RootHashSignature;
import dev.cairn.signing.SigningException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The partitions that carry one dm-verity protected file system in a Discoverable Disk Image, as
 * systemd-repart lays them out for {@code Verity=data}, {@code Verity=hash} and
 * {@code Verity=signature} (ddi-sysext.md §2, docs/disk.md): the root partition (the file system),
 * root-verity (the verity superblock and hash tree) and root-verity-sig (systemd's JSON with the
 * root-hash signature). All three read-only and typed for one architecture, the first two named by
 * the halves of the root hash, the third by a seed as repart derives it. One file feeds the first
 * two: a SquashFS with its verity tree appended from {@code hashOffset} on.
 *
 * <p>Shared by a build's disk ({@code outputs.disk}) and {@code cairn sysext create}.
 */
public final class VerityPartitions {
    /** repart's {@code VERITY_SIG_SIZE}: the signature partition is always 16 KiB. */
    public static final long SIGNATURE_PARTITION_SIZE = 16384;

    private VerityPartitions() {
    }

    /**
     * The signature partition's content: {@code {"rootHash":…,"certificateFingerprint":…,"signature":…}}
     * (no whitespace, no newline) NUL-padded to the next multiple of 4096, as repart writes it.
     *
     * @throws IllegalStateException when the JSON does not fit in {@link #SIGNATURE_PARTITION_SIZE}
     */
    public static byte[] signatureContent(String rootHashHex, byte[] signature, KeyMaterial key) throws SigningException {
        byte[] json = RootHashSignature.systemdJson(rootHashHex, signature, key).getBytes(StandardCharsets.US_ASCII);
        long padded = (json.length + 4095L) / 4096 * 4096;
        if (padded > SIGNATURE_PARTITION_SIZE) {
            throw new IllegalStateException("the verity signature JSON (" + json.length + " bytes) does not fit in "
                    + SIGNATURE_PARTITION_SIZE + " bytes");
        }
        byte[] out = new byte[Math.toIntExact(padded)];
        System.arraycopy(json, 0, out, 0, json.length);
        return out;
    }

    /**
     * The root, root-verity and (when {@code signature} is not null) root-verity-sig partitions
     * for {@code arch}, in that order: root holds {@code image} up to {@code hashOffset}, root-verity
     * the rest of it; their UUIDs are the first and last 128 bits of {@code rootHash}; the signature
     * partition holds {@code signature} (see {@link #signatureContent}) and its UUID comes from
     * {@code seed} as the first partition of its type. Labels are the DPS type names (repart's
     * default), flags read-only (bit 60) on all three.
     *
     * @param imageSize the size of {@code image}
     * @throws IllegalArgumentException when the image is not laid out in 4 KiB units
     */
    public static List<PartitionSpec> specs(DpsType.Arch arch, Path image, long imageSize, long hashOffset, byte[] rootHash,
                                            UUID seed, Path signature) {
        return specs(arch, image, imageSize, hashOffset, rootHash, seed, signature, null, 0, 0);
    }

    /**
     * Like {@link #specs(DpsType.Arch, Path, long, long, byte[], UUID, Path)}, with labels
     * {@code LABEL}, {@code LABEL_verity} and {@code LABEL_verity_sig} when {@code label} is given
     * (what systemd-sysupdate's {@code MatchPattern=} needs to tell versions apart), and root and
     * root-verity partitions of at least {@code rootSize} and {@code veritySize} bytes (0: their
     * contents' sizes), so that a later version has room in the same slot.
     */
    public static List<PartitionSpec> specs(DpsType.Arch arch, Path image, long imageSize, long hashOffset, byte[] rootHash,
                                            UUID seed, Path signature, String label, long rootSize, long veritySize) {
        long hashSize = imageSize - hashOffset;
        if (hashOffset <= 0 || hashOffset % PartitionSpec.GRAIN != 0 || hashSize <= 0 || hashSize % PartitionSpec.GRAIN != 0) {
            throw new IllegalArgumentException(image.getFileName() + " is not laid out in 4 KiB units: hash offset " + hashOffset
                    + ", size " + imageSize);
        }
        DpsType root = DpsType.of(DpsType.Role.ROOT, arch);
        DpsType verity = DpsType.of(DpsType.Role.ROOT_VERITY, arch);
        DpsType sig = DpsType.of(DpsType.Role.ROOT_VERITY_SIG, arch);
        long ro = DpsType.READ_ONLY;
        List<PartitionSpec> parts = new ArrayList<>();
        if (rootSize != 0 && rootSize < hashOffset || veritySize != 0 && veritySize < hashSize) {
            throw new IllegalArgumentException("the root partition needs " + hashOffset + " bytes and the root-verity partition "
                    + hashSize + ": rootSize " + rootSize + " or veritySize " + veritySize + " is too small");
        }
        parts.add(new PartitionSpec(root.uuid(), RepartUuids.fromRootHashHalf(rootHash, false), label != null ? label : root.systemdName(),
                ro, Math.max(rootSize, hashOffset), image).withContentRegion(0, hashOffset));
        parts.add(new PartitionSpec(verity.uuid(), RepartUuids.fromRootHashHalf(rootHash, true),
                label != null ? label + "_verity" : verity.systemdName(), ro, Math.max(veritySize, hashSize), image)
                .withContentRegion(hashOffset, hashSize));
        if (signature != null) {
            parts.add(new PartitionSpec(sig.uuid(), RepartUuids.partitionUuid(seed, sig.uuid(), 0),
                    label != null ? label + "_verity_sig" : sig.systemdName(), ro, SIGNATURE_PARTITION_SIZE, signature));
        }
        return parts;
    }

    /**
     * A seed for repart's UUID derivations (what {@code --seed=} would be given): the SHA-256 of
     * {@code parts} joined by NUL bytes (UTF-8), its first 16 bytes as a version-4 UUID.
     */
    public static UUID seed(String... parts) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] h = md.digest(String.join("\0", parts).getBytes(StandardCharsets.UTF_8));
        h[6] = (byte) ((h[6] & 0x0f) | 0x40);
        h[8] = (byte) ((h[8] & 0x3f) | 0x80);
        ByteBuffer b = ByteBuffer.wrap(h, 0, 16);
        return new UUID(b.getLong(), b.getLong());
    }
}
