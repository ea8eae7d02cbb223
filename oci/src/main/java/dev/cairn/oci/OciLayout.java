package dev.cairn.oci;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * An OCI image layout directory (image-spec 1.1 {@code image-layout.md}): {@code oci-layout},
 * {@code index.json}, {@code blobs/<alg>/<hex>}.
 *
 * <p>Writes are atomic: a blob is streamed into a temporary file inside {@code blobs/<alg>/},
 * hashed while written, checked against the expected digest and size, then renamed to its digest
 * — a blob is only ever stored under the digest it actually has. {@code index.json} is replaced by
 * rename. Manifests are stored and read as exact bytes.
 *
 * <p>Reads treat the directory as hostile: manifests and indexes are capped at
 * {@link OciJson#MAX_MANIFEST_BYTES}, every blob read is checked against its descriptor's size and
 * digest, nesting of indexes is limited, and unknown media types are reported, not followed.
 * Concurrent writers to the same layout are not coordinated (last {@code index.json} wins).
 */
public final class OciLayout {
    /** The {@code oci-layout} file content cairn writes. */
    public static final byte[] LAYOUT_HEADER = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** Deepest index-in-index nesting followed before the walk is refused. */
    public static final int MAX_DEPTH = 16;
    /** Most descriptors a walk visits before it is refused (a guard against amplification). */
    public static final int MAX_NODES = 100_000;
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

    private final Path dir;

    private OciLayout(Path dir) {
        this.dir = dir;
    }

    /** Opens an existing layout, checking its {@code oci-layout} file. */
    public static OciLayout open(Path dir) throws IOException {
        Path header = dir.resolve("oci-layout");
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "no such OCI layout directory");
        }
        if (!Files.isRegularFile(header)) {
            throw new FormatException("oci-layout", dir, "not an OCI image layout (no oci-layout file)");
        }
        byte[] b = readCapped(header, 4096, "oci-layout");
        var n = OciJson.tree(b, dir + "/oci-layout");
        var v = n.get("imageLayoutVersion");
        if (v == null || !v.isTextual() || !v.asText().startsWith("1.")) {
            throw new FormatException("imageLayoutVersion", v, dir + "/oci-layout: unsupported layout version");
        }
        return new OciLayout(dir);
    }

    /** Opens the layout at {@code dir}, creating an empty one (and the directory) if there is none. */
    public static OciLayout openOrCreate(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("oci-layout"))) {
            return open(dir);
        }
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                if (s.iterator().hasNext()) {
                    throw new FileAlreadyExistsException(dir.toString(), null, "exists, is not empty and is not an OCI layout");
                }
            }
        }
        Files.createDirectories(dir.resolve("blobs").resolve("sha256"));
        OciLayout l = new OciLayout(dir);
        l.writeAtomically(dir.resolve("oci-layout"), LAYOUT_HEADER);
        l.writeIndex(ImageIndex.of(List.of()));
        return l;
    }

    public Path dir() {
        return dir;
    }

    /** Whether {@code tag} may name an image (same grammar as a distribution-spec tag). */
    public static boolean isValidTag(String tag) {
        return tag != null && TAG.matcher(tag).matches();
    }

    // ---------------------------------------------------------------- index.json

    /** The parsed {@code index.json}. */
    public ImageIndex index() throws IOException {
        Path p = dir.resolve("index.json");
        byte[] b = readCapped(p, OciJson.MAX_MANIFEST_BYTES, "index.json");
        ImageIndex idx = OciJson.decode(b, ImageIndex.class, dir + "/index.json");
        if (idx.mediaType() != null && !MediaTypes.isIndex(idx.mediaType())) {
            throw new FormatException("mediaType", idx.mediaType(), dir + "/index.json is not an image index");
        }
        return idx;
    }

    /** Replaces {@code index.json} atomically. */
    public void writeIndex(ImageIndex index) throws IOException {
        writeAtomically(dir.resolve("index.json"), OciJson.encode(index));
    }

    /** The index entry tagged {@code tag}, if any (the last one when a hostile index repeats a tag). */
    public Optional<Descriptor> find(String tag) throws IOException {
        Descriptor found = null;
        for (Descriptor d : index().manifests()) {
            if (tag.equals(d.refName())) {
                found = d;
            }
        }
        return Optional.ofNullable(found);
    }

    /** The descriptor a tag or a digest ({@code sha256:…}) names in this layout. */
    public Descriptor resolve(String tagOrDigest) throws IOException {
        if (tagOrDigest.contains(":")) {
            Digest d = Digest.parse("reference", tagOrDigest);
            for (Descriptor m : index().manifests()) {
                if (m.digest().equals(d)) {
                    return m;
                }
            }
            if (!hasBlob(d)) {
                throw new FormatException("reference", tagOrDigest, dir + ": no such manifest");
            }
            byte[] b = readCapped(blobPath(d), OciJson.MAX_MANIFEST_BYTES, d.toString());
            if (!d.matches(d.newHasher().digest(b))) {
                throw new FormatException("digest", d, "blob content does not match its digest");
            }
            var n = OciJson.tree(b, d.toString());
            String mt = n.path("mediaType").asText(MediaTypes.MANIFEST);
            return Descriptor.of(mt.isEmpty() ? MediaTypes.MANIFEST : mt, d, b.length);
        }
        return find(tagOrDigest).orElseThrow(() -> new FormatException("tag", tagOrDigest,
                dir + ": no image with this tag (cairn oci ls lists the tags)"));
    }

    /**
     * Points {@code tag} at {@code manifest} in {@code index.json}: entries with the same
     * {@code ref.name} are replaced, everything else is kept in order.
     */
    public void tag(String tag, Descriptor manifest) throws IOException {
        if (!isValidTag(tag)) {
            throw new IllegalArgumentException("invalid tag '" + tag + "': use letters, digits, '_', '.', '-' (at most 128, not starting with '.' or '-')");
        }
        ImageIndex idx = index();
        List<Descriptor> out = new ArrayList<>();
        for (Descriptor d : idx.manifests()) {
            if (!tag.equals(d.refName())) {
                out.add(d);
            }
        }
        out.add(manifest.withAnnotation(MediaTypes.REF_NAME, tag));
        writeIndex(idx.withManifests(out));
    }

    /** Adds an untagged entry for {@code manifest} unless the index already lists that digest. */
    public void addUntagged(Descriptor manifest) throws IOException {
        ImageIndex idx = index();
        for (Descriptor d : idx.manifests()) {
            if (d.digest().equals(manifest.digest())) {
                return;
            }
        }
        List<Descriptor> out = new ArrayList<>(idx.manifests());
        out.add(manifest.withAnnotation(MediaTypes.REF_NAME, null));
        writeIndex(idx.withManifests(out));
    }

    // ---------------------------------------------------------------- blobs

    public Path blobPath(Digest d) {
        return dir.resolve("blobs").resolve(d.algorithm()).resolve(d.hex());
    }

    public boolean hasBlob(Digest d) {
        return Files.isRegularFile(blobPath(d));
    }

    /** Stores {@code bytes} as a blob of {@code mediaType}. */
    public Descriptor putBlob(byte[] bytes, String mediaType) throws IOException {
        return putBlob(new java.io.ByteArrayInputStream(bytes), mediaType, null, bytes.length);
    }

    /**
     * Streams {@code in} into a new blob. With {@code expected} (and {@code expectedSize} ≥ 0) the
     * content must match, or nothing is stored and a {@link FormatException} is thrown.
     */
    public Descriptor putBlob(InputStream in, String mediaType, Digest expected, long expectedSize) throws IOException {
        String alg = expected == null ? "sha256" : expected.algorithm();
        Path algDir = dir.resolve("blobs").resolve(alg);
        Files.createDirectories(algDir);
        Path temp = dev.cairn.io.AtomicOutput.createTempFile(algDir, ".cairn-", ".tmp"); // Ctrl-C deletes it
        try {
            MessageDigest md = expected == null ? Digest.newSha256() : expected.newHasher();
            long size;
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE);
                 OutputStream os = new DigestOutputStream(Channels.newOutputStream(ch), md)) {
                byte[] buf = new byte[1 << 20];
                long limit = expectedSize >= 0 ? expectedSize : Long.MAX_VALUE;
                size = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    size += n;
                    if (size > limit) {
                        throw new FormatException("size", expectedSize, "blob has more bytes than expected; not stored");
                    }
                    os.write(buf, 0, n);
                }
                os.flush();
                ch.force(true);
            }
            Digest actual = new Digest(alg, java.util.HexFormat.of().formatHex(md.digest()));
            if (expected != null && !expected.equals(actual)) {
                throw new FormatException("digest", expected, "blob content does not match its digest (it hashes to " + actual + "); not stored");
            }
            if (expectedSize >= 0 && size != expectedSize) {
                throw new FormatException("size", expectedSize, "blob " + actual + " has " + size + " bytes; not stored");
            }
            moveInto(temp, actual);
            return Descriptor.of(mediaType, actual, size);
        } finally {
            Files.deleteIfExists(temp);
            dev.cairn.io.AtomicOutput.settled(temp);
        }
    }

    /**
     * Moves {@code file} (which should be on the layout's file system, e.g. a {@link #tempFile()})
     * into the blob store under its sha256 digest; the file is hashed once for that.
     */
    public Descriptor ingest(Path file, String mediaType) throws IOException {
        MessageDigest md = Digest.newSha256();
        long size = 0;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
                size += n;
            }
        }
        Digest d = Digest.sha256(md.digest());
        moveInto(file, d);
        return Descriptor.of(mediaType, d, size);
    }

    /**
     * Moves {@code file}, whose digest and size the caller computed while writing it, into the blob
     * store. The size is re-checked; the digest is trusted (it is a by-product of the write).
     */
    Descriptor adopt(Path file, String mediaType, Digest digest, long size) throws IOException {
        long actual = Files.size(file);
        if (actual != size) {
            throw new FormatException("size", size, "layer file has " + actual + " bytes");
        }
        moveInto(file, digest);
        return Descriptor.of(mediaType, digest, size);
    }

    /** A new empty temporary file inside the layout (same file system as the blobs) for {@link #ingest}. */
    public Path tempFile() throws IOException {
        Path algDir = dir.resolve("blobs").resolve("sha256");
        Files.createDirectories(algDir);
        return dev.cairn.io.AtomicOutput.createTempFile(algDir, ".cairn-", ".tmp"); // Ctrl-C deletes it
    }

    private void moveInto(Path temp, Digest d) throws IOException {
        Path target = blobPath(d);
        if (Files.isRegularFile(target)) {
            Files.deleteIfExists(temp); // content-addressed: the same bytes are already there
            dev.cairn.io.AtomicOutput.settled(temp);
            return;
        }
        try {
            Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException ignored) {
            // not POSIX
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target);
        }
        dev.cairn.io.AtomicOutput.settled(temp);
    }

    /** Reads a small blob (manifest, index, config) completely, checking size and digest. */
    public byte[] readBlob(Descriptor d, int max) throws IOException {
        if (d.size() > max) {
            throw new FormatException("size", d.size(), d.digest() + " is larger than the " + max + "-byte limit for "
                    + d.mediaType());
        }
        Path p = blobPath(d.digest());
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "blob " + d.digest() + " is missing from the layout");
        }
        byte[] b = readCapped(p, max, d.digest().toString());
        if (b.length != d.size()) {
            throw new FormatException("size", d.size(), "blob " + d.digest() + " has " + b.length + " bytes");
        }
        MessageDigest md = d.digest().newHasher();
        if (!d.digest().matches(md.digest(b))) {
            throw new FormatException("digest", d.digest(), "blob content does not match its digest");
        }
        return b;
    }

    /** Streams a blob; the stream fails at its end unless size and digest match {@code d}. */
    public InputStream openBlob(Descriptor d) throws IOException {
        Path p = blobPath(d.digest());
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(p.toString(), null, "blob " + d.digest() + " is missing from the layout");
        }
        if (!Files.isRegularFile(p)) { // a FIFO or device in an untrusted layout would block or never end
            throw new FormatException("blob", d.digest(), p + " is not a file");
        }
        return new VerifyingInputStream(Files.newInputStream(p), d.digest(), d.size(), "blob");
    }

    /** Reads and parses the manifest {@code d} points to, keeping its exact bytes. */
    public ManifestBlob readManifest(Descriptor d) throws IOException {
        if (!MediaTypes.isManifest(d.mediaType())) {
            throw new FormatException("mediaType", d.mediaType(), d.digest() + " is not an image manifest");
        }
        byte[] b = readBlob(d, OciJson.MAX_MANIFEST_BYTES);
        Manifest m = OciJson.decode(b, Manifest.class, "manifest " + d.digest());
        if (m.mediaType() != null && !m.mediaType().equals(d.mediaType())) {
            throw new FormatException("mediaType", m.mediaType(), "manifest " + d.digest() + " does not match its descriptor's "
                    + d.mediaType());
        }
        return new ManifestBlob(d, b, m);
    }

    /** Reads and parses the index {@code d} points to. */
    public ImageIndex readIndex(Descriptor d) throws IOException {
        if (!MediaTypes.isIndex(d.mediaType())) {
            throw new FormatException("mediaType", d.mediaType(), d.digest() + " is not an image index");
        }
        byte[] b = readBlob(d, OciJson.MAX_MANIFEST_BYTES);
        return OciJson.decode(b, ImageIndex.class, "index " + d.digest());
    }

    /** The manifests listed in {@code index.json} whose {@code subject} is {@code subject} (with their artifactType). */
    public List<Descriptor> referrers(Digest subject) throws IOException {
        List<Descriptor> out = new ArrayList<>();
        for (Descriptor e : index().manifests()) {
            if (MediaTypes.isManifest(e.mediaType()) && hasBlob(e.digest())) {
                Manifest m = readManifest(e).manifest();
                if (m.subject() != null && m.subject().digest().equals(subject)) {
                    out.add(e.withArtifactType(m.effectiveArtifactType()));
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- walk and gc

    /**
     * Follows every descriptor from {@code index.json}: manifests (config, layers, subject) and
     * nested indexes, verifying each manifest and index it reads. Missing blobs and unknown media
     * types are reported; nesting deeper than {@link #MAX_DEPTH} is refused as a probable loop.
     */
    public LayoutWalk walk() throws IOException {
        Set<Digest> reachable = new LinkedHashSet<>();
        Set<Digest> missing = new TreeSet<>(java.util.Comparator.comparing(Digest::toString));
        List<String> unknown = new ArrayList<>();
        Deque<Digest> path = new ArrayDeque<>();
        int[] nodes = {0};
        for (Descriptor d : index().manifests()) {
            visit(d, 1, path, reachable, missing, unknown, nodes);
        }
        return new LayoutWalk(reachable, missing, unknown);
    }

    private void visit(Descriptor d, int depth, Deque<Digest> path, Set<Digest> reachable, Set<Digest> missing,
                       List<String> unknown, int[] nodes) throws IOException {
        if (++nodes[0] > MAX_NODES) {
            throw new FormatException("descriptors", nodes[0], dir + ": more than " + MAX_NODES + " descriptors");
        }
        if (path.contains(d.digest())) {
            throw new FormatException("digest", d.digest(), dir + ": index loop (a manifest list contains itself)");
        }
        if (depth > MAX_DEPTH) {
            throw new FormatException("depth", depth, dir + ": indexes nested deeper than " + MAX_DEPTH + " (loop?)");
        }
        boolean first = reachable.add(d.digest());
        if (!hasBlob(d.digest())) {
            missing.add(d.digest());
            return;
        }
        if (!first) {
            return;
        }
        path.push(d.digest());
        try {
            if (MediaTypes.isIndex(d.mediaType())) {
                ImageIndex idx = readIndex(d);
                for (Descriptor c : idx.manifests()) {
                    visit(c, depth + 1, path, reachable, missing, unknown, nodes);
                }
                if (idx.subject() != null) {
                    reachable.add(idx.subject().digest());
                }
            } else if (MediaTypes.isManifest(d.mediaType())) {
                Manifest m = readManifest(d).manifest();
                leaf(m.config(), reachable, missing);
                for (Descriptor l : m.layers()) {
                    leaf(l, reachable, missing);
                }
                // a subject is a weak reference: it need not be present and is not kept alive by gc
            } else {
                unknown.add(d.mediaType() + " " + d.digest());
            }
        } finally {
            path.pop();
        }
    }

    private void leaf(Descriptor d, Set<Digest> reachable, Set<Digest> missing) {
        reachable.add(d.digest());
        if (!hasBlob(d.digest()) && d.size() > 0 && d.data() == null) {
            missing.add(d.digest());
        }
    }

    /** Deletes every blob no descriptor reachable from {@code index.json} references. */
    public GcResult gc() throws IOException {
        LayoutWalk w = walk();
        List<Digest> removed = new ArrayList<>();
        long freed = 0;
        int kept = 0;
        Path blobs = dir.resolve("blobs");
        if (!Files.isDirectory(blobs)) {
            return new GcResult(removed, 0, 0);
        }
        List<Path> algs = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(blobs)) {
            s.forEach(algs::add);
        }
        algs.sort(null);
        for (Path alg : algs) {
            if (!Files.isDirectory(alg)) {
                continue;
            }
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(alg)) {
                s.forEach(files::add);
            }
            files.sort(null);
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.startsWith(".")) {
                    continue; // an in-flight temporary file of a concurrent writer
                }
                Digest d;
                try {
                    d = new Digest(alg.getFileName().toString(), name);
                } catch (IllegalArgumentException e) {
                    continue; // not a blob name: not ours to delete
                }
                if (w.reachable().contains(d)) {
                    kept++;
                    continue;
                }
                freed += Files.size(f);
                Files.delete(f);
                removed.add(d);
            }
        }
        return new GcResult(removed, freed, kept);
    }

    // ---------------------------------------------------------------- helpers

    static byte[] readCapped(Path p, int max, String what) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw new FormatException("size", "> " + max, what + " is larger than the " + max + "-byte limit");
            }
            return b;
        }
    }

    private void writeAtomically(Path target, byte[] bytes) throws IOException {
        try (dev.cairn.io.AtomicOutput out = dev.cairn.io.AtomicOutput.open(target)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                out.channel().write(b);
            }
            out.commit();
        }
    }
}
