package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.pipeline.SpecTree.Node;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.ImageIndex;
import dev.cairn.oci.ManifestBlob;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code rootfs.oci}: resolves {@code LAYOUT:TAG} / {@code LAYOUT@sha256:…} to the image's layer
 * descriptors when the spec is read (an index picks its linux/amd64 manifest), refusing layers that
 * are not tar archives; then streams each layer, digest-verified, into the SquashFS as an overlay.
 */
final class OciRootfsResolver {
    /** Tar layer media types (OCI and Docker, distributable or not); compression is detected by magic. */
    static final Set<String> TAR_LAYERS = Set.of(MediaTypes.LAYER_TAR, MediaTypes.LAYER_TAR_GZIP, MediaTypes.LAYER_TAR_ZSTD,
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
            "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");
    private static final Pattern BY_DIGEST = Pattern.compile("(.+)[@:](sha256:[0-9a-f]{64})");

    private OciRootfsResolver() {
    }

    static BuildSpec.OciRootfs resolve(SpecTree t, Node at, String value) throws SpecException {
        String dir;
        String ref;
        Matcher m = BY_DIGEST.matcher(value);
        if (m.matches()) {
            dir = m.group(1);
            ref = m.group(2);
        } else {
            int colon = value.lastIndexOf(':');
            if (colon <= 0 || colon == value.length() - 1) {
                throw t.error(at, "must be LAYOUT:TAG or LAYOUT@sha256:DIGEST (an OCI image layout and the image in it), not '"
                        + value + "'");
            }
            dir = value.substring(0, colon);
            ref = value.substring(colon + 1);
            if (!OciLayout.isValidTag(ref)) {
                throw t.error(at, "not a valid OCI tag: '" + ref + "'");
            }
        }
        Path layoutDir = t.file().toAbsolutePath().getParent().resolve(dir).normalize();
        if (!Files.isRegularFile(layoutDir.resolve("oci-layout"))) {
            throw t.error(at, layoutDir + ": no OCI image layout (no oci-layout file)");
        }
        try {
            OciLayout layout = OciLayout.open(layoutDir);
            Descriptor d = layout.resolve(ref);
            if (MediaTypes.isIndex(d.mediaType())) {
                d = linuxAmd64(layout.readIndex(d), value, t, at);
            }
            if (!MediaTypes.isManifest(d.mediaType())) {
                throw t.error(at, value + " is a " + d.mediaType() + ", not an image manifest");
            }
            ManifestBlob mb = layout.readManifest(d);
            List<Descriptor> layers = mb.manifest().layers();
            if (layers == null || layers.isEmpty()) {
                throw t.error(at, value + " has no layers");
            }
            for (int i = 0; i < layers.size(); i++) {
                Descriptor l = layers.get(i);
                if (!TAR_LAYERS.contains(l.mediaType())) {
                    throw t.error(at, value + " layer " + i + " (" + l.digest() + ") is a " + l.mediaType()
                            + ", not a tar layer: only tar layers (plain, gzip, zstd) can be flattened into the root filesystem");
                }
                if (!layout.hasBlob(l.digest())) {
                    throw t.error(at, value + " layer " + i + " (" + l.digest() + ") is missing from the layout");
                }
            }
            return new BuildSpec.OciRootfs(layoutDir, ref, d.digest(), layers);
        } catch (SpecException e) {
            throw e;
        } catch (IOException e) {
            throw t.error(at, e.getMessage());
        }
    }

    private static Descriptor linuxAmd64(ImageIndex index, String value, SpecTree t, Node at) throws SpecException {
        for (Descriptor m : index.manifests()) {
            JsonNode p = m.platform();
            if (p != null && "linux".equals(p.path("os").asText()) && "amd64".equals(p.path("architecture").asText())
                    && MediaTypes.isManifest(m.mediaType())) {
                return m;
            }
        }
        throw t.error(at, value + " is an image index without a linux/amd64 image manifest");
    }

    /**
     * Reads layer {@code d} of {@code layout} to its end: the stream verifies size and digest at
     * its end, so a tampered blob fails the build even when the tar ends before the blob does.
     */
    static InputStream open(OciLayout layout, Descriptor d) throws IOException {
        return layout.openBlob(d);
    }

    /** Consumes what the tar reader left of a verifying blob stream so its size and digest are checked. */
    static void drain(InputStream verifying) throws IOException {
        verifying.transferTo(OutputStream.nullOutputStream());
    }
}
