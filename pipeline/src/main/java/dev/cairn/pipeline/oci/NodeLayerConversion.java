package dev.cairn.pipeline.oci;

import dev.cairn.erofs.ErofsOptions;
import dev.cairn.erofs.ErofsTarWriter;
import dev.cairn.io.AtomicOutput;
import dev.cairn.io.FileTrees;
import dev.cairn.io.FormatException;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.tardev.TarfsIndex;
import dev.cairn.verity.HashAlgorithm;
import dev.cairn.verity.VerityFormatter;
import dev.cairn.verity.VerityParams;
import dev.cairn.verity.VerityProgress;
import dev.cairn.verity.VerityResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * The dm-verity root hash a container host computes over its own conversion of a tar layer, so a
 * signer can sign exactly what the node will check. Only conversions whose bytes cairn reproduces
 * are offered; each names the node software it matches.
 */
public final class NodeLayerConversion {
    /** Layer media types Kata's tardev snapshotter (and genpolicy) convert; others are skipped by the node. */
    static final Set<String> TARDEV_MEDIA_TYPES = Set.of(MediaTypes.LAYER_TAR_GZIP,
            "application/vnd.docker.image.rootfs.diff.tar.gzip");

    private NodeLayerConversion() {
    }

    /** A node-side conversion of tar layers. */
    public enum Conversion {
        /**
         * Kata's tardev snapshotter (AKS Confidential Containers): the decompressed tar, the tarfs
         * index appended, a SHA-256 dm-verity tree with 4 KiB blocks and a 32-byte zero salt.
         */
        TARDEV("tardev"),
        /**
         * containerd's EROFS differ with dm-verity (containerd 2.3+, Azure Linux OS Guard), in its
         * documented reproducible configuration: {@code mkfs.erofs --tar=f --aufs -Enoinline_data -b4096
         * -T0 --mkfs-time --sort=none -U <UUIDv5 of the layer digest>} (erofs-utils 1.8), then a
         * SHA-256 dm-verity tree with 4 KiB blocks and a 32-byte zero salt.
         */
        CONTAINERD_EROFS("containerd-erofs"),
        /**
         * containerd's EROFS differ in tar-index mode ({@code enable_tar_index}): {@code mkfs.erofs --tar=i
         * --aufs -b4096 -T0 --mkfs-time --sort=none -U <UUIDv5>} (512-byte blocks) followed by the raw tar,
         * then a SHA-256 dm-verity tree with 512-byte blocks and a 32-byte zero salt.
         */
        CONTAINERD_EROFS_TARINDEX("containerd-erofs-tarindex");

        private final String flag;

        Conversion(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }

        public static Conversion of(String flag) {
            for (Conversion c : values()) {
                if (c.flag.equals(flag)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("unknown conversion '" + flag
                    + "' (supported: tardev, containerd-erofs, containerd-erofs-tarindex)");
        }

        @Override
        public String toString() {
            return flag;
        }
    }

    /**
     * A converted layer: {@code data} (what the tree covers: the tar and its index), {@code tree}
     * (the dm-verity hash tree, no superblock), the root hash in lower-case hex, and the members the
     * node skips (named, so a caller can warn).
     */
    public record Converted(Path data, Path tree, String rootHash, long dataSize, List<String> skipped) {
        public Converted {
            skipped = List.copyOf(skipped);
        }
    }

    /** Layer media types containerd's EROFS differ converts (a tar, uncompressed or compressed). */
    static final Set<String> CONTAINERD_MEDIA_TYPES = Set.of(MediaTypes.LAYER_TAR, MediaTypes.LAYER_TAR_GZIP,
            MediaTypes.LAYER_TAR_ZSTD, "application/vnd.docker.image.rootfs.diff.tar.gzip");

    /** containerd's tree over a tar-index layer: as {@link #tardevVerity()} but with 512-byte blocks (EROFS's block size there). */
    public static VerityParams tarIndexVerity() {
        return new VerityParams(HashAlgorithm.SHA256, 1, 512, 512, new byte[32], null, false, 0, -1, null);
    }

    private static Converted containerdErofs(Descriptor layer, InputStream blob, Path work, int threads, boolean tarIndex)
            throws IOException {
        String type = layer.mediaType();
        if (!CONTAINERD_MEDIA_TYPES.contains(type)) {
            throw new FormatException("mediaType", type, "layer " + layer.digest()
                    + " cannot be signed for containerd-erofs: the differ converts tar layers ("
                    + String.join(", ", CONTAINERD_MEDIA_TYPES.stream().sorted().toList()) + ")");
        }
        Path data = Files.createTempFile(work, "layer-", ".erofs");
        try (InputStream tar = type.endsWith("+zstd") ? new com.github.luben.zstd.ZstdInputStream(blob)
                : type.endsWith("gzip") ? new GZIPInputStream(blob, 64 * 1024) : blob) {
            if (tarIndex) {
                ErofsTarWriter.writeTarIndexLayer(tar, data, ErofsOptions.containerdTarIndex(layer.digest().toString()));
            } else {
                ErofsTarWriter.write(tar, data, ErofsOptions.containerd(layer.digest().toString()));
            }
        } catch (java.util.zip.ZipException e) {
            throw new FormatException("layer " + layer.digest() + " is not valid gzip: " + e.getMessage(), e);
        } catch (FormatException e) {
            throw new FormatException("layer " + layer.digest() + ": " + e.getMessage(), e);
        }
        if (tarIndex) {
            // containerd zero-extends the layer file to whole 512-byte blocks before hashing it
            long size = Files.size(data);
            if (size % 512 != 0) {
                try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.allocate((int) (512 - size % 512)), size);
                }
            }
        }
        return withTree(data, tarIndex ? tarIndexVerity() : tardevVerity(), work, threads, Files.size(data), List.of());
    }

    /** {@code data}'s dm-verity tree (beside it in {@code work}) and root hash. */
    private static Converted withTree(Path data, VerityParams params, Path work, int threads, long dataSize, List<String> skipped)
            throws IOException {
        Path tree = Files.createTempFile(work, "layer-", ".tree");
        VerityResult v = VerityFormatter.format(data, tree, params, threads, VerityProgress.NONE);
        return new Converted(data, tree, HexFormat.of().formatHex(v.rootHash()).toLowerCase(Locale.ROOT), dataSize, skipped);
    }

    /** The root hash of a layer's conversion and the members the node skips. */
    public record RootHash(String rootHash, List<String> skipped) {
        public RootHash {
            skipped = List.copyOf(skipped);
        }
    }

    /**
     * The root hash the node computes for {@code layer}: the conversion is written into a scratch
     * directory (removed afterwards, and by a Ctrl-C too) and only its root hash is kept.
     */
    public static RootHash rootHash(Conversion conversion, Descriptor layer, InputStream blob, int threads) throws IOException {
        Path work = AtomicOutput.createTempDirectory(null, "cairn-dm-verity-");
        try {
            Converted c = convert(conversion, layer, blob, work, threads);
            return new RootHash(c.rootHash(), c.skipped());
        } finally {
            try {
                FileTrees.delete(work);
            } finally {
                AtomicOutput.settled(work);
            }
        }
    }

    /**
     * The nodes' tree parameters (tardev and containerd alike): SHA-256, format 1, 4096/4096, 32 zero
     * bytes of salt, no superblock (containerd writes one with a random UUID after the data; the root
     * hash does not depend on it).
     */
    public static VerityParams tardevVerity() {
        return new VerityParams(HashAlgorithm.SHA256, 1, 4096, 4096, new byte[32], null, false, 0, -1, null);
    }

    /**
     * Converts the layer {@code blob} (described by {@code layer}) as the node does, writing the
     * converted data and its tree into {@code work} (which the caller removes).
     */
    public static Converted convert(Conversion conversion, Descriptor layer, InputStream blob, Path work, int threads)
            throws IOException {
        if (conversion == Conversion.CONTAINERD_EROFS || conversion == Conversion.CONTAINERD_EROFS_TARINDEX) {
            return containerdErofs(layer, blob, work, threads, conversion == Conversion.CONTAINERD_EROFS_TARINDEX);
        }
        if (!TARDEV_MEDIA_TYPES.contains(layer.mediaType())) {
            throw new FormatException("mediaType", layer.mediaType(), "layer " + layer.digest()
                    + " cannot be signed for tardev: the snapshotter converts only gzip tar layers ("
                    + String.join(", ", TARDEV_MEDIA_TYPES.stream().sorted().toList()) + ")");
        }
        Path data = Files.createTempFile(work, "layer-", ".tardev");
        try (InputStream in = new GZIPInputStream(blob, 64 * 1024)) {
            Files.copy(in, data, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.util.zip.ZipException e) {
            throw new FormatException("layer " + layer.digest() + " is not valid gzip: " + e.getMessage(), e);
        }
        TarfsIndex.Result index;
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            try {
                index = TarfsIndex.build(ch);
            } catch (FormatException e) {
                throw new FormatException("layer " + layer.digest() + ": " + e.getMessage(), e);
            }
            ByteBuffer b = ByteBuffer.wrap(index.index());
            long at = ch.size();
            while (b.hasRemaining()) {
                at += ch.write(b, at);
            }
        }
        return withTree(data, tardevVerity(), work, threads, index.layerSize(), index.skipped());
    }
}
