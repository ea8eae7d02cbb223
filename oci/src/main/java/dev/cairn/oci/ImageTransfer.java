package dev.cairn.oci;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves images between a layout and a registry. Push sends blobs the registry lacks (HEAD first),
 * then manifests children-first, the root under the destination tag; a manifest with a
 * {@code subject} is added to the referrers fallback index ({@code sha256-<hex>} tag) when the
 * registry does not answer {@code OCI-Subject}. Pull fetches and verifies the root manifest before
 * the layout is created or touched, stores each blob only after its digest and size were checked,
 * and moves the tag last.
 */
public final class ImageTransfer {
    private ImageTransfer() {
    }

    /** What a transfer did. */
    public record TransferResult(Descriptor root, int blobsSent, int blobsSkipped, int blobsMounted, long bytesSent, int manifests) {
    }

    private static final class Counter {
        final TransferProgress progress;
        int sent;
        int skipped;
        int mounted;
        long bytes;
        int manifests;

        Counter(TransferProgress progress) {
            this.progress = java.util.Objects.requireNonNull(progress);
        }
    }

    public static TransferResult push(OciLayout layout, String tagOrDigest, RegistryClient client, RegistryReference dest)
            throws IOException {
        return push(layout, tagOrDigest, client, dest, TransferProgress.NONE);
    }

    /** Like {@link #push(OciLayout, String, RegistryClient, RegistryReference)}, telling {@code progress} of each blob sent. */
    public static TransferResult push(OciLayout layout, String tagOrDigest, RegistryClient client, RegistryReference dest,
                                      TransferProgress progress) throws IOException {
        Descriptor root = layout.resolve(tagOrDigest);
        Counter c = new Counter(progress);
        pushNode(layout, root, client, dest, dest.reference(), c);
        return new TransferResult(root, c.sent, c.skipped, c.mounted, c.bytes, c.manifests);
    }

    /**
     * Pushes what refers to {@code subject} in the layout: every manifest whose {@code subject} it is
     * (notation and sigstore-bundle signatures, artifacts; by digest, recorded as referrers), and
     * cosign's attachment tags {@code <alg>-<hex>.sig|.att|.sbom} under the same tags.
     */
    public static TransferResult pushReferrers(OciLayout layout, Digest subject, RegistryClient client, RegistryReference dest)
            throws IOException {
        return pushReferrers(layout, subject, client, dest, TransferProgress.NONE);
    }

    /** Like {@link #pushReferrers(OciLayout, Digest, RegistryClient, RegistryReference)}, telling {@code progress} of each blob sent. */
    public static TransferResult pushReferrers(OciLayout layout, Digest subject, RegistryClient client, RegistryReference dest,
                                               TransferProgress progress) throws IOException {
        Counter c = new Counter(progress);
        for (Descriptor r : layout.referrers(subject)) {
            pushNode(layout, Descriptor.of(r.mediaType(), r.digest(), r.size()), client, dest, r.digest().toString(), c);
        }
        for (String suffix : List.of(".sig", ".att", ".sbom")) {
            String tag = subject.algorithm() + "-" + subject.hex() + suffix;
            var attached = layout.find(tag);
            if (attached.isPresent()) {
                pushNode(layout, attached.get(), client, dest, tag, c);
            }
        }
        return new TransferResult(null, c.sent, c.skipped, c.mounted, c.bytes, c.manifests);
    }

    private static void pushNode(OciLayout layout, Descriptor d, RegistryClient client, RegistryReference dest, String ref,
                                 Counter c) throws IOException {
        byte[] bytes;
        Descriptor subject = null;
        Manifest manifest = null;
        if (MediaTypes.isIndex(d.mediaType())) {
            ImageIndex idx = layout.readIndex(d);
            for (Descriptor child : idx.manifests()) {
                if (!MediaTypes.isIndex(child.mediaType()) && !MediaTypes.isManifest(child.mediaType())) {
                    throw new FormatException("mediaType", child.mediaType(), "index " + d.digest() + " lists a non-manifest");
                }
                pushNode(layout, child, client, dest, child.digest().toString(), c);
            }
            bytes = layout.readBlob(d, OciJson.MAX_MANIFEST_BYTES);
            subject = idx.subject();
        } else if (MediaTypes.isManifest(d.mediaType())) {
            ManifestBlob mb = layout.readManifest(d);
            manifest = mb.manifest();
            List<Descriptor> blobs = new ArrayList<>();
            blobs.add(manifest.config());
            blobs.addAll(manifest.layers());
            for (Descriptor b : blobs) {
                if (!layout.hasBlob(b.digest())) {
                    throw new FormatException("digest", b.digest(), "blob is missing from the layout; cannot push " + d.digest());
                }
                boolean sent = client.pushBlob(dest, b, fileSource(layout.blobPath(b.digest()), b, c.progress));
                if (sent) {
                    c.sent++;
                    c.bytes += b.size();
                } else {
                    c.skipped++;
                }
            }
            bytes = mb.bytes();
            subject = manifest.subject();
        } else {
            throw new FormatException("mediaType", d.mediaType(), d.digest() + " is neither a manifest nor an index");
        }
        boolean registryTracksReferrers = client.putManifest(dest, ref, bytes, d.mediaType());
        c.manifests++;
        if (subject != null && !registryTracksReferrers) {
            addFallbackReferrer(client, dest, subject.digest(), d, manifest);
        }
    }

    /** The blob {@code b} in file {@code p}; the first byte handed out announces the blob to {@code progress}. */
    private static RegistryClient.BlobSource fileSource(Path p, Descriptor b, TransferProgress progress) {
        return new RegistryClient.BlobSource() {
            private volatile boolean started;

            @Override
            public InputStream open(long offset) throws IOException {
                return ImageTransfer.open(p, b, offset);
            }

            @Override
            public Path file() {
                return p;
            }

            @Override
            public void sent(long bytes) {
                if (!started) {
                    started = true;
                    progress.blobStarted("push", b);
                }
                progress.advanced(bytes);
            }
        };
    }

    private static InputStream open(Path p, Descriptor b, long offset) throws IOException {
        FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
        ch.position(offset);
        InputStream in = Channels.newInputStream(ch);
        return offset == 0 ? new VerifyingInputStream(in, b.digest(), b.size(), "layout blob") : in;
    }

    /**
     * distribution-spec 1.1 referrers tag schema: the index at tag {@code <alg>-<hex>} of the
     * subject lists every manifest that refers to it; this one is appended unless present.
     */
    static void addFallbackReferrer(RegistryClient client, RegistryReference dest, Digest subject, Descriptor d, Manifest m)
            throws IOException {
        String tag = subject.fallbackTag();
        List<Descriptor> entries = new ArrayList<>();
        var existing = client.findManifest(dest, tag);
        if (existing.isPresent()) {
            try {
                entries.addAll(OciJson.decode(existing.get().bytes(), ImageIndex.class, "referrers index " + tag).manifests());
            } catch (FormatException e) {
                // an invalid fallback index counts as no referrers (distribution-spec): replace it
            }
        }
        for (Descriptor e : entries) {
            if (e.digest().equals(d.digest())) {
                return;
            }
        }
        Map<String, String> ann = m == null ? Map.of() : new LinkedHashMap<>(m.annotations());
        String artifactType = m == null ? d.artifactType() : m.effectiveArtifactType();
        entries.add(new Descriptor(d.mediaType(), artifactType, d.digest(), d.size(), null, null, null, ann));
        byte[] idx = OciJson.encode(ImageIndex.of(entries));
        client.putManifest(dest, tag, idx, MediaTypes.INDEX);
    }

    /**
     * Pulls {@code src} into {@code layoutDir} under {@code tag}. The layout is created (if needed)
     * only after the root manifest has been fetched and verified.
     */
    public static TransferResult pull(RegistryClient client, RegistryReference src, Path layoutDir, String tag) throws IOException {
        return pull(client, src, layoutDir, tag, TransferProgress.NONE);
    }

    /** Like {@link #pull(RegistryClient, RegistryReference, Path, String)}, telling {@code progress} of each blob downloaded. */
    public static TransferResult pull(RegistryClient client, RegistryReference src, Path layoutDir, String tag, TransferProgress progress)
            throws IOException {
        RegistryClient.FetchedManifest root = client.getManifest(src, src.reference());
        Descriptor rootDesc = root.descriptor();
        parse(rootDesc, root.bytes()); // refuse a malformed root before anything is written
        OciLayout layout = OciLayout.openOrCreate(layoutDir);
        Counter c = new Counter(progress);
        pullNode(client, src, layout, root, c, 1);
        Object parsed = parse(rootDesc, root.bytes());
        String artifactType = parsed instanceof Manifest m ? m.artifactType() : ((ImageIndex) parsed).artifactType();
        layout.tag(tag, artifactType == null ? rootDesc : rootDesc.withArtifactType(artifactType));
        return new TransferResult(rootDesc, c.sent, c.skipped, c.mounted, c.bytes, c.manifests);
    }

    private static Object parse(Descriptor d, byte[] bytes) throws FormatException {
        if (MediaTypes.isIndex(d.mediaType())) {
            return OciJson.decode(bytes, ImageIndex.class, "index " + d.digest());
        }
        if (MediaTypes.isManifest(d.mediaType())) {
            return OciJson.decode(bytes, Manifest.class, "manifest " + d.digest());
        }
        throw new FormatException("mediaType", d.mediaType(), "registry sent an unsupported manifest type for " + d.digest());
    }

    private static void pullNode(RegistryClient client, RegistryReference src, OciLayout layout, RegistryClient.FetchedManifest fm,
                                 Counter c, int depth) throws IOException {
        if (depth > OciLayout.MAX_DEPTH) {
            throw new FormatException("depth", depth, "indexes nested deeper than " + OciLayout.MAX_DEPTH);
        }
        Descriptor d = fm.descriptor();
        Object parsed = parse(d, fm.bytes());
        if (parsed instanceof ImageIndex idx) {
            for (Descriptor child : idx.manifests()) {
                RegistryClient.FetchedManifest cm = client.getManifest(src, child.digest().toString());
                if (cm.bytes().length != child.size()) {
                    throw new FormatException("size", child.size(), "manifest " + child.digest() + " has " + cm.bytes().length + " bytes");
                }
                pullNode(client, src, layout, new RegistryClient.FetchedManifest(
                        Descriptor.of(child.mediaType(), child.digest(), child.size()), cm.bytes()), c, depth + 1);
            }
        } else {
            Manifest m = (Manifest) parsed;
            List<Descriptor> blobs = new ArrayList<>();
            blobs.add(m.config());
            blobs.addAll(m.layers());
            for (Descriptor b : blobs) {
                if (layout.hasBlob(b.digest())) {
                    c.skipped++;
                    continue;
                }
                for (int attempt = 1; ; attempt++) {
                    try {
                        c.progress.blobStarted("pull", b);
                        client.downloadBlob(src, b, layout, c.progress::advanced);
                        break;
                    } catch (FormatException e) {
                        throw e; // wrong content is never retried into the layout
                    } catch (IOException e) {
                        if (attempt >= 4) {
                            throw e instanceof RegistryException ? e : new RegistryException("download of " + b.digest() + " failed: " + e.getMessage(), e);
                        }
                        client.countRetry();
                        client.sleep(attempt, null);
                    }
                }
                c.sent++;
                c.bytes += b.size();
            }
        }
        layout.putBlob(new java.io.ByteArrayInputStream(fm.bytes()), d.mediaType(), d.digest(), fm.bytes().length);
        c.manifests++;
    }

    /**
     * Copies the image or index {@code tagOrDigest} of {@code src} (with every blob it references,
     * each verified while copied) into {@code dst} under {@code tag}.
     */
    public static TransferResult copy(OciLayout src, String tagOrDigest, OciLayout dst, String tag) throws IOException {
        return copy(src, tagOrDigest, dst, tag, TransferProgress.NONE);
    }

    /** Like {@link #copy(OciLayout, String, OciLayout, String)}, telling {@code progress} of each blob copied. */
    public static TransferResult copy(OciLayout src, String tagOrDigest, OciLayout dst, String tag, TransferProgress progress)
            throws IOException {
        Descriptor root = src.resolve(tagOrDigest);
        Counter c = new Counter(progress);
        copyNode(src, root, dst, c, 1);
        dst.tag(tag, root.withAnnotation(MediaTypes.REF_NAME, null));
        return new TransferResult(root, c.sent, c.skipped, c.mounted, c.bytes, c.manifests);
    }

    private static void copyNode(OciLayout src, Descriptor d, OciLayout dst, Counter c, int depth) throws IOException {
        if (depth > OciLayout.MAX_DEPTH) {
            throw new FormatException("depth", depth, "indexes nested deeper than " + OciLayout.MAX_DEPTH);
        }
        List<Descriptor> blobs = new ArrayList<>();
        if (MediaTypes.isIndex(d.mediaType())) {
            for (Descriptor child : src.readIndex(d).manifests()) {
                copyNode(src, child, dst, c, depth + 1);
            }
        } else if (MediaTypes.isManifest(d.mediaType())) {
            Manifest m = src.readManifest(d).manifest();
            blobs.add(m.config());
            blobs.addAll(m.layers());
        } else {
            throw new FormatException("mediaType", d.mediaType(), d.digest() + " is neither a manifest nor an index");
        }
        for (Descriptor b : blobs) {
            if (dst.hasBlob(b.digest())) {
                c.skipped++;
                continue;
            }
            c.progress.blobStarted("copy", b);
            try (InputStream in = RegistryClient.counting(src.openBlob(b), c.progress::advanced)) {
                dst.putBlob(in, b.mediaType(), b.digest(), b.size());
            }
            c.sent++;
            c.bytes += b.size();
        }
        try (InputStream in = src.openBlob(d)) {
            dst.putBlob(in, d.mediaType(), d.digest(), d.size());
        }
        c.manifests++;
    }

    /**
     * Registry to registry without a full local copy: blobs the destination has are skipped, blobs
     * of the same registry are mounted across repositories, the rest are downloaded (verified) into
     * {@code scratch}, a temporary layout, and uploaded; then manifests children-first.
     */
    public static TransferResult copy(RegistryClient client, RegistryReference src, RegistryReference dest, Path scratch)
            throws IOException {
        return copy(client, src, dest, scratch, TransferProgress.NONE);
    }

    /**
     * Like {@link #copy(RegistryClient, RegistryReference, RegistryReference, Path)}, telling
     * {@code progress} of each blob downloaded ("pull") and uploaded ("push").
     */
    public static TransferResult copy(RegistryClient client, RegistryReference src, RegistryReference dest, Path scratch,
                                      TransferProgress progress) throws IOException {
        RegistryClient.FetchedManifest root = client.getManifest(src, src.reference());
        Counter c = new Counter(progress);
        copyRemote(client, src, dest, root, dest.reference(), scratch, c, 1);
        return new TransferResult(root.descriptor(), c.sent, c.skipped, c.mounted, c.bytes, c.manifests);
    }

    private static void copyRemote(RegistryClient client, RegistryReference src, RegistryReference dest,
                                   RegistryClient.FetchedManifest fm, String ref, Path scratch, Counter c, int depth) throws IOException {
        if (depth > OciLayout.MAX_DEPTH) {
            throw new FormatException("depth", depth, "indexes nested deeper than " + OciLayout.MAX_DEPTH);
        }
        Descriptor d = fm.descriptor();
        Object parsed = parse(d, fm.bytes());
        Descriptor subject;
        Manifest manifest = null;
        if (parsed instanceof ImageIndex idx) {
            for (Descriptor child : idx.manifests()) {
                RegistryClient.FetchedManifest cm = client.getManifest(src, child.digest().toString());
                if (cm.bytes().length != child.size()) {
                    throw new FormatException("size", child.size(), "manifest " + child.digest() + " has " + cm.bytes().length + " bytes");
                }
                copyRemote(client, src, dest, new RegistryClient.FetchedManifest(Descriptor.of(child.mediaType(), child.digest(), child.size()),
                        cm.bytes()), child.digest().toString(), scratch, c, depth + 1);
            }
            subject = idx.subject();
        } else {
            manifest = (Manifest) parsed;
            List<Descriptor> blobs = new ArrayList<>();
            blobs.add(manifest.config());
            blobs.addAll(manifest.layers());
            boolean sameRegistry = src.registry().equals(dest.registry());
            for (Descriptor b : blobs) {
                if (client.blobExists(dest, b.digest())) {
                    c.skipped++;
                } else if (sameRegistry && client.mountBlob(dest, b.digest(), src.repository())) {
                    c.mounted++;
                } else {
                    OciLayout tmp = OciLayout.openOrCreate(scratch);
                    if (!tmp.hasBlob(b.digest())) {
                        c.progress.blobStarted("pull", b);
                        client.downloadBlob(src, b, tmp, c.progress::advanced);
                    }
                    Path p = tmp.blobPath(b.digest());
                    client.pushBlob(dest, b, fileSource(p, b, c.progress));
                    Files.deleteIfExists(p);
                    c.sent++;
                    c.bytes += b.size();
                }
            }
            subject = manifest.subject();
        }
        boolean tracked = client.putManifest(dest, ref, fm.bytes(), d.mediaType());
        c.manifests++;
        if (subject != null && !tracked) {
            addFallbackReferrer(client, dest, subject.digest(), d, manifest);
        }
    }
}
