package dev.cairn.cli.oci;

import dev.cairn.pipeline.oci.SquashfsVerityLayer;
import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.Main;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.ImageBuilder;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.TarLayerWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci layer}: add layers to images in a layout. */
@Command(name = "layer", mixinStandardHelpOptions = true, description = "Add layers to images in an OCI layout.")
final class LayerCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("add", Main.make(Add.class));
        return m;
    }

    /** Layer kinds. */
    enum LayerType {
        SQUASHFS("squashfs"), SQUASHFS_GZIP("squashfs+gzip"), TAR("tar"), TAR_GZIP("tar+gzip"), TAR_ZSTD("tar+zstd");

        final String label;

        LayerType(String label) {
            this.label = label;
        }

        static LayerType parse(String s) {
            for (LayerType t : values()) {
                if (t.label.equals(s)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("--type must be squashfs, squashfs+gzip, tar, tar+gzip or tar+zstd, not '" + s + "'");
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Append a layer made from a directory or a tar archive to the image LAYOUT:TAG (created if new).",
                    "squashfs: stacker/atomfs layer (media type application/vnd.stacker.image.layer.squashfs+zstd),",
                    "  blob = SquashFS padded to 4 KiB + dm-verity superblock + hash tree (sha256, 4096/4096, salt derived",
                    "  from the content), root hash in the layer annotation io.stackeroci.stacker.atomfs_verity_root_hash.",
                    "tar, tar+gzip, tar+zstd: deterministic OCI tar layers (sorted entries, mtime $SOURCE_DATE_EPOCH or 0,",
                    "  owner 0:0 for directories)."})
    static final class Add implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "LAYOUT:TAG", description = "Layout directory (created if missing) and tag.")
        String target;
        @Parameters(index = "1", paramLabel = "SOURCE", description = "Directory or tar archive (plain, .gz, .zst).")
        Path source;
        @Option(names = "--type", paramLabel = "TYPE", description = "squashfs (default), squashfs+gzip, tar, tar+gzip, tar+zstd.")
        String type = "squashfs";
        @Option(names = "--os", paramLabel = "OS", description = "os of a new image's config (default linux).")
        String os = "linux";
        @Option(names = {"--architecture", "--arch"}, paramLabel = "ARCH", description = "architecture of a new image's config (default amd64).")
        String arch = "amd64";
        @Mixin
        SourceDateEpochOption sourceDateEpoch;
        @Mixin
        ThreadsOption threads;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            LayerType t = LayerType.parse(type);
            LayoutRef ref = LayoutRef.parse(target, true);
            if (!Files.exists(source)) {
                throw new java.nio.file.NoSuchFileException(source.toString(), null, "no such directory or tar archive");
            }
            Instant created = sourceDateEpoch.instant(spec.commandLine()).orElse(null);
            long mtime = created == null ? 0 : created.getEpochSecond();
            boolean newLayout = !Files.exists(ref.layout(), java.nio.file.LinkOption.NOFOLLOW_LINKS);
            try {
                return add(t, ref, mtime, created);
            } catch (IOException | RuntimeException e) {
                if (newLayout) { // a layout made for a layer that failed is not left behind empty
                    dev.cairn.io.FileTrees.removeQuietly(ref.layout(), false);
                }
                throw e;
            }
        }

        private int add(LayerType t, LayoutRef ref, long mtime, Instant created) throws IOException {
            OciLayout layout = OciLayout.openOrCreate(ref.layout());
            Descriptor layer;
            dev.cairn.oci.Digest diffId;
            String rootHash = null;
            PrintWriter err = spec.commandLine().getErr();
            switch (t) {
                case SQUASHFS, SQUASHFS_GZIP -> {
                    SquashfsVerityLayer.Result r = SquashfsVerityLayer.build(layout, source,
                            t == LayerType.SQUASHFS ? dev.cairn.squashfs.Compression.ZSTD : dev.cairn.squashfs.Compression.GZIP,
                            mtime, threads.threads());
                    r.squashfs().warnings().forEach(w -> err.println("cairn: warning: " + w));
                    layer = r.layer();
                    diffId = layer.digest(); // stacker: the layer is not compressed as a whole, diff_id = digest
                    rootHash = r.verity().rootHashHex();
                }
                default -> {
                    TarLayerWriter.Compression c = t == LayerType.TAR ? TarLayerWriter.Compression.NONE
                            : t == LayerType.TAR_GZIP ? TarLayerWriter.Compression.GZIP : TarLayerWriter.Compression.ZSTD;
                    TarLayerWriter.TarLayer r = Files.isDirectory(source)
                            ? TarLayerWriter.fromDirectory(layout, source, c, mtime, w -> err.println("cairn: warning: " + w))
                            : TarLayerWriter.fromTar(layout, source, c, mtime);
                    layer = r.descriptor();
                    diffId = r.diffId();
                }
            }
            ImageBuilder.LayerResult r = ImageBuilder.appendLayer(layout, ref.tag(), layer, diffId,
                    "cairn oci layer add --type " + t.label, new ImageBuilder.ImageDefaults(os, arch, created));
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("layout", ref.layout().toString());
                m.put("tag", ref.tag());
                m.put("manifest", r.manifest().digest().toString());
                m.put("config", r.config().digest().toString());
                m.put("layer", layer.digest().toString());
                m.put("mediaType", layer.mediaType());
                m.put("size", layer.size());
                m.put("diffId", diffId.toString());
                if (rootHash != null) {
                    m.put("verityRootHash", rootHash);
                }
                m.put("layers", r.layerCount());
                JsonOption.print(out, m);
            } else {
                out.println((r.created() ? "Created " : "Updated ") + ref + ": manifest " + r.manifest().digest() + ", "
                        + r.layerCount() + (r.layerCount() == 1 ? " layer" : " layers"));
                out.println("Layer " + layer.digest() + " " + layer.mediaType() + " " + layer.size() + " bytes");
                if (rootHash != null) {
                    out.println(MediaTypes.ATOMFS_VERITY_ROOT_HASH + "=" + rootHash);
                }
            }
            return 0;
        }
    }
}
