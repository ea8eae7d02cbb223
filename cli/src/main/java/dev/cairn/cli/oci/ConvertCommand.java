package dev.cairn.cli.oci;

import dev.cairn.pipeline.oci.SquashfsVerityLayer;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.Digest;
import dev.cairn.oci.ImageBuilder;
import dev.cairn.oci.Manifest;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciLayout;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cairn oci convert}: an image of OCI tar layers into stacker SquashFS+verity layers. OCI
 * whiteouts ({@code .wh.NAME}, {@code .wh..wh..opq}) become overlay whiteouts as stacker writes
 * them (a 0:0 character device; {@code user.overlay.opaque=y} on the directory).
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a tar-layer image into SquashFS+dm-verity layers.",
                "Each tar layer of LAYOUT:TAG becomes one, stored as LAYOUT:TAG-squashfs (or --tag). OCI whiteouts become overlay whiteouts (0:0 char device,",
                "user.overlay.opaque=y); config diff_ids become the new layer digests; other config fields are kept."})
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "LAYOUT:TAG")
    String source;
    @Option(names = "--to", paramLabel = "FORMAT", description = "squashfs-verity (default; zstd) or squashfs-verity+gzip.")
    String to = "squashfs-verity";
    @Option(names = "--tag", paramLabel = "TAG", description = "Tag of the converted image (default: TAG-squashfs, as stacker names it).")
    String newTag;
    @Mixin
    SourceDateEpochOption sourceDateEpoch;
    @Mixin
    ThreadsOption threads;
    @Mixin
    JsonOption json;

    static final String WHITEOUT = ".wh.";
    static final String OPAQUE = ".wh..wh..opq";

    @Override
    public Integer call() throws IOException {
        dev.cairn.squashfs.Compression comp = switch (to) {
            case "squashfs-verity" -> dev.cairn.squashfs.Compression.ZSTD;
            case "squashfs-verity+gzip" -> dev.cairn.squashfs.Compression.GZIP;
            default -> throw new IllegalArgumentException("--to must be squashfs-verity or squashfs-verity+gzip, not '" + to + "'");
        };
        LayoutRef ref = LayoutRef.parse(source, true);
        String tag = newTag != null ? newTag : ref.tag() + "-squashfs";
        if (!OciLayout.isValidTag(tag)) {
            throw new IllegalArgumentException("invalid tag '" + tag + "'");
        }
        OciLayout layout = OciLayout.open(ref.layout());
        Descriptor src = layout.resolve(ref.tag());
        Manifest m = layout.readManifest(src).manifest();
        Instant t = sourceDateEpoch.instant(spec.commandLine()).orElse(null);
        long mtime = t == null ? 0 : t.getEpochSecond();
        List<Descriptor> layers = new ArrayList<>();
        List<Digest> diffIds = new ArrayList<>();
        List<Object> report = new ArrayList<>();
        for (Descriptor l : m.layers()) {
            if (!l.mediaType().equals(MediaTypes.LAYER_TAR) && !l.mediaType().equals(MediaTypes.LAYER_TAR_GZIP)
                    && !l.mediaType().equals(MediaTypes.LAYER_TAR_ZSTD)
                    && !l.mediaType().equals("application/vnd.docker.image.rootfs.diff.tar.gzip")) {
                throw new UnsupportedFeatureException("mediaType", l.mediaType(), "only tar layers can be converted");
            }
            Path overlay = layout.tempFile();
            try {
                Set<String> opaque = opaqueDirs(layout, l);
                translate(layout, l, overlay, opaque);
                SquashfsVerityLayer.Result r = SquashfsVerityLayer.build(layout, overlay, comp, mtime, threads.threads());
                r.squashfs().warnings().forEach(w -> spec.commandLine().getErr().println("cairn: warning: layer " + l.digest() + ": " + w));
                layers.add(r.layer());
                diffIds.add(r.layer().digest());
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("from", l.digest().toString());
                e.put("layer", r.layer().digest().toString());
                e.put("verityRootHash", r.verity().rootHashHex());
                report.add(e);
            } finally {
                Files.deleteIfExists(overlay);
            }
        }
        Descriptor out = ImageBuilder.replaceLayers(layout, src, tag, layers, diffIds);
        PrintWriter o = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("tag", tag);
            j.put("manifest", out.digest().toString());
            j.put("layers", report);
            JsonOption.print(o, j);
        } else {
            o.println("Converted " + ref + " to " + ref.layout() + ":" + tag + ": manifest " + out.digest() + ", " + layers.size()
                    + (layers.size() == 1 ? " squashfs layer" : " squashfs layers"));
        }
        return 0;
    }

    /** Decompresses the layer blob {@code verifying} (which checks size and digest at its end). */
    private static InputStream decode(InputStream verifying, Descriptor l) throws IOException {
        InputStream in = new BufferedInputStream(verifying, 1 << 16);
        if (l.mediaType().endsWith("+gzip") || l.mediaType().endsWith(".gzip")) {
            return new GZIPInputStream(in, 1 << 16);
        }
        if (l.mediaType().endsWith("+zstd")) {
            return new com.github.luben.zstd.ZstdInputStream(in);
        }
        return in;
    }

    /**
     * Reads what the tar reader left of the verifying blob stream: the tar can end (two zero
     * records) before the blob does, and size and digest are only checked at the blob's end, so a
     * tampered blob with a short tar in front would otherwise be accepted.
     */
    private static void drain(InputStream verifying) throws IOException {
        verifying.transferTo(java.io.OutputStream.nullOutputStream());
    }

    private static String clean(String name) {
        String n = name.startsWith("./") ? name.substring(2) : name;
        return n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
    }

    /** Directories marked opaque by a {@code .wh..wh..opq} entry. */
    private static Set<String> opaqueDirs(OciLayout layout, Descriptor l) throws IOException {
        Set<String> out = new HashSet<>();
        try (InputStream blob = layout.openBlob(l);
             TarArchiveInputStream in = new TarArchiveInputStream(new dev.cairn.io.TarHeaderGuard(decode(blob, l)))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                String n = clean(e.getName());
                int slash = n.lastIndexOf('/');
                if (n.substring(slash + 1).equals(OPAQUE)) {
                    out.add(slash < 0 ? "" : n.substring(0, slash));
                }
            }
            drain(blob);
        }
        return out;
    }

    /** Re-writes the layer's tar with overlay whiteouts in place of OCI ones. */
    private static void translate(OciLayout layout, Descriptor l, Path out, Set<String> opaque) throws IOException {
        Set<String> dirsSeen = new HashSet<>();
        try (InputStream blob = layout.openBlob(l);
             TarArchiveInputStream in = new TarArchiveInputStream(new dev.cairn.io.TarHeaderGuard(decode(blob, l)));
             TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(out), "UTF-8")) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                String n = clean(e.getName());
                int slash = n.lastIndexOf('/');
                String base = n.substring(slash + 1);
                String parent = slash < 0 ? "" : n.substring(0, slash);
                if (base.equals(OPAQUE)) {
                    if (!parent.isEmpty() && !dirsSeen.contains(parent)) {
                        TarArchiveEntry d = new TarArchiveEntry(parent + "/");
                        d.setMode(040755);
                        d.addPaxHeader("SCHILY.xattr.user.overlay.opaque", "y");
                        tar.putArchiveEntry(d);
                        tar.closeArchiveEntry();
                        dirsSeen.add(parent);
                    }
                    continue;
                }
                if (base.startsWith(WHITEOUT)) {
                    TarArchiveEntry w = new TarArchiveEntry((parent.isEmpty() ? "" : parent + "/") + base.substring(WHITEOUT.length()),
                            TarConstants.LF_CHR);
                    w.setMode(020000);
                    w.setDevMajor(0);
                    w.setDevMinor(0);
                    w.setModTime(e.getModTime());
                    tar.putArchiveEntry(w);
                    tar.closeArchiveEntry();
                    continue;
                }
                TarArchiveEntry o = dev.cairn.oci.TarLayerWriter.copyHeader(e);
                o.setUserId(e.getLongUserId());
                o.setGroupId(e.getLongGroupId());
                o.setModTime(e.getModTime());
                if (e.isDirectory()) {
                    dirsSeen.add(n);
                    if (opaque.contains(n)) {
                        o.addPaxHeader("SCHILY.xattr.user.overlay.opaque", "y");
                    }
                }
                if (e.isFile()) {
                    o.setSize(e.getSize());
                }
                tar.putArchiveEntry(o);
                if (e.isFile()) {
                    in.transferTo(tar);
                }
                tar.closeArchiveEntry();
            }
            drain(blob);
            tar.finish();
        }
    }
}
