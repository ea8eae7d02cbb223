package dev.cairn.oci;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Where signatures are read from and attached to: an OCI layout or one repository of a registry.
 * Signature formats ({@link CosignSignatures}, {@link NotationSignatures}, {@link SigstoreBundles})
 * are written once against this interface, so {@code cairn oci sign|verify} work the same on
 * {@code LAYOUT:TAG} and on {@code HOST/REPOSITORY:TAG}.
 */
public interface ArtifactStore {
    /** The manifest descriptor a tag or digest names; a missing one is an error. */
    Descriptor resolve(String tagOrDigest) throws IOException;

    /** The manifest tagged {@code tag}, if there is one. */
    Optional<Descriptor> find(String tag) throws IOException;

    /** Reads and parses an image manifest, keeping its exact bytes (digest checked). */
    ManifestBlob readManifest(Descriptor d) throws IOException;

    /** The exact bytes of a manifest or index (digest checked). */
    byte[] manifestBytes(Descriptor d) throws IOException;

    /** Reads a small blob completely (digest and size checked); more than {@code max} bytes is refused. */
    byte[] readBlob(Descriptor d, int max) throws IOException;

    /** Streams a blob of any size; the stream fails at its end unless size and digest match {@code d}. */
    InputStream openBlob(Descriptor d) throws IOException;

    /** Stores a blob (a registry skips one it already has). */
    Descriptor putBlob(byte[] bytes, String mediaType) throws IOException;

    /**
     * Stores a manifest cairn built (its blobs must be stored already), under {@code tag} or, when
     * {@code tag} is null, untagged (by digest). A manifest with a {@code subject} is recorded as a
     * referrer of it (a registry without the referrers API gets the {@code sha256-<hex>} fallback index).
     */
    Descriptor putManifest(Manifest m, String tag) throws IOException;

    /** The manifests whose {@code subject} is {@code subject}, each with its artifactType. */
    List<Descriptor> referrers(Digest subject) throws IOException;

    /** Where this store is, for messages. */
    String describe();

    /**
     * The referrers of {@code subject} of {@code artifactType} whose manifest really names
     * {@code subject} (a registry's referrers list is not trusted), parsed; more than {@code max}
     * is refused ({@code what} names them in the message).
     */
    default List<ManifestBlob> referrersOfType(Digest subject, String artifactType, int max, String what) throws IOException {
        List<ManifestBlob> out = new java.util.ArrayList<>();
        for (Descriptor r : referrers(subject)) {
            if (!artifactType.equals(r.artifactType()) || !MediaTypes.isManifest(r.mediaType())) {
                continue;
            }
            if (out.size() >= max) {
                throw new dev.cairn.io.FormatException("referrers", out.size(), "more than " + max + " " + what + " on " + subject);
            }
            ManifestBlob mb = readManifest(r);
            Manifest m = mb.manifest();
            if (m.subject() != null && m.subject().digest().equals(subject) && artifactType.equals(m.effectiveArtifactType())) {
                out.add(mb);
            }
        }
        return out;
    }

    /**
     * Attaches a referrer of {@code subject}: the empty config, then the manifest (untagged) whose
     * layers are {@code layers} (stored already) and whose annotations are {@code annotations}.
     */
    default Descriptor attachReferrer(Descriptor subject, String artifactType, List<Descriptor> layers,
                                      java.util.Map<String, String> annotations) throws IOException {
        putBlob(MediaTypes.EMPTY_JSON, MediaTypes.EMPTY);
        Manifest m = Manifest.of(artifactType, Descriptor.empty(), layers,
                Descriptor.of(subject.mediaType(), subject.digest(), subject.size()), annotations);
        return putManifest(m, null);
    }

    static ArtifactStore of(OciLayout layout) {
        return new LayoutStore(layout);
    }

    static ArtifactStore of(RegistryClient client, RegistryReference repository) {
        return new RegistryStore(client, repository);
    }

    /** An OCI layout: untagged manifests are listed in {@code index.json} so referrers can be found. */
    final class LayoutStore implements ArtifactStore {
        private final OciLayout layout;

        LayoutStore(OciLayout layout) {
            this.layout = layout;
        }

        @Override
        public Descriptor resolve(String tagOrDigest) throws IOException {
            return layout.resolve(tagOrDigest);
        }

        @Override
        public Optional<Descriptor> find(String tag) throws IOException {
            return layout.find(tag);
        }

        @Override
        public ManifestBlob readManifest(Descriptor d) throws IOException {
            return layout.readManifest(d);
        }

        @Override
        public byte[] manifestBytes(Descriptor d) throws IOException {
            return layout.readBlob(d, OciJson.MAX_MANIFEST_BYTES);
        }

        @Override
        public byte[] readBlob(Descriptor d, int max) throws IOException {
            return layout.readBlob(d, max);
        }

        @Override
        public InputStream openBlob(Descriptor d) throws IOException {
            return layout.openBlob(d);
        }

        @Override
        public Descriptor putBlob(byte[] bytes, String mediaType) throws IOException {
            return layout.putBlob(bytes, mediaType);
        }

        @Override
        public Descriptor putManifest(Manifest m, String tag) throws IOException {
            Descriptor d = layout.putBlob(OciJson.encode(m), MediaTypes.MANIFEST);
            if (m.artifactType() != null) {
                d = d.withArtifactType(m.artifactType());
            }
            if (tag != null) {
                layout.tag(tag, d);
            } else {
                layout.addUntagged(d);
            }
            return d;
        }

        @Override
        public List<Descriptor> referrers(Digest subject) throws IOException {
            return layout.referrers(subject);
        }

        @Override
        public String describe() {
            return layout.dir().toString();
        }
    }

    /** One repository of a registry, through {@link RegistryClient}. */
    final class RegistryStore implements ArtifactStore {
        private final RegistryClient client;
        private final RegistryReference repository;

        RegistryStore(RegistryClient client, RegistryReference repository) {
            this.client = client;
            this.repository = repository;
        }

        @Override
        public Descriptor resolve(String tagOrDigest) throws IOException {
            return client.getManifest(repository, tagOrDigest).descriptor();
        }

        @Override
        public Optional<Descriptor> find(String tag) throws IOException {
            return client.findManifest(repository, tag).map(RegistryClient.FetchedManifest::descriptor);
        }

        @Override
        public ManifestBlob readManifest(Descriptor d) throws IOException {
            if (!MediaTypes.isManifest(d.mediaType())) {
                throw new dev.cairn.io.FormatException("mediaType", d.mediaType(), d.digest() + " is not an image manifest");
            }
            byte[] b = client.getManifest(repository, d.digest().toString()).bytes();
            Manifest m = OciJson.decode(b, Manifest.class, "manifest " + d.digest());
            return new ManifestBlob(Descriptor.of(d.mediaType(), d.digest(), b.length), b, m);
        }

        @Override
        public byte[] manifestBytes(Descriptor d) throws IOException {
            return client.getManifest(repository, d.digest().toString()).bytes();
        }

        @Override
        public byte[] readBlob(Descriptor d, int max) throws IOException {
            if (d.size() > max) {
                throw new dev.cairn.io.FormatException("size", d.size(), d.digest() + " is larger than the " + max + "-byte limit for "
                        + d.mediaType());
            }
            try (InputStream in = client.getBlob(repository, d)) {
                byte[] b = in.readNBytes(Math.toIntExact(d.size()) + 1);
                if (b.length != d.size()) {
                    throw new dev.cairn.io.FormatException("size", d.size(), "blob " + d.digest() + " has " + b.length + " bytes");
                }
                return b;
            }
        }

        @Override
        public InputStream openBlob(Descriptor d) throws IOException {
            return client.getBlob(repository, d);
        }

        @Override
        public Descriptor putBlob(byte[] bytes, String mediaType) throws IOException {
            Descriptor d = Descriptor.of(mediaType, Digest.ofBytes(bytes), bytes.length);
            byte[] copy = bytes.clone();
            client.pushBlob(repository, d, offset -> {
                ByteArrayInputStream in = new ByteArrayInputStream(copy);
                in.skipNBytes(offset);
                return in;
            });
            return d;
        }

        @Override
        public Descriptor putManifest(Manifest m, String tag) throws IOException {
            byte[] bytes = OciJson.encode(m);
            Descriptor d = Descriptor.of(MediaTypes.MANIFEST, Digest.ofBytes(bytes), bytes.length);
            boolean registryTracksReferrers = client.putManifest(repository, tag != null ? tag : d.digest().toString(), bytes,
                    MediaTypes.MANIFEST);
            if (m.subject() != null && !registryTracksReferrers) {
                ImageTransfer.addFallbackReferrer(client, repository, m.subject().digest(), d, m);
            }
            return m.artifactType() != null ? d.withArtifactType(m.artifactType()) : d;
        }

        @Override
        public List<Descriptor> referrers(Digest subject) throws IOException {
            return client.referrers(repository, subject);
        }

        @Override
        public String describe() {
            return repository.registry() + "/" + repository.repository();
        }
    }
}
