package dev.cairn.oci;

import java.util.Set;

/** Media types of image-spec 1.1 ({@code media-types.md}) and of the stacker/atomfs layers cairn writes. */
public final class MediaTypes {
    private MediaTypes() {
    }

    public static final String LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json";
    public static final String DESCRIPTOR = "application/vnd.oci.descriptor.v1+json";
    public static final String INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    public static final String LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String EMPTY = "application/vnd.oci.empty.v1+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    /** stacker/atomfs SquashFS layers ({@code atomfs:pkg/squashfs/mediatype.go}); verity is not in the type. */
    public static final String STACKER_SQUASHFS_ZSTD = "application/vnd.stacker.image.layer.squashfs+zstd";
    public static final String STACKER_SQUASHFS_GZIP = "application/vnd.stacker.image.layer.squashfs+gzip";

    /** Layer annotation holding the dm-verity root hash (lowercase hex) of a stacker SquashFS layer. */
    public static final String ATOMFS_VERITY_ROOT_HASH = "io.stackeroci.stacker.atomfs_verity_root_hash";
    /** The older key atomfs readers fall back to. */
    public static final String SQUASHFS_VERITY_ROOT_HASH = "io.stackeroci.stacker.squashfs_verity_root_hash";
    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    public static final String TITLE = "org.opencontainers.image.title";
    public static final String CREATED = "org.opencontainers.image.created";

    /** The empty JSON blob {@code {}} and its descriptor fields. */
    public static final byte[] EMPTY_JSON = {'{', '}'};
    public static final String EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    /** Media types whose blobs are manifests (they may reference further blobs). */
    public static final Set<String> MANIFESTS = Set.of(MANIFEST, DOCKER_MANIFEST);
    public static final Set<String> INDEXES = Set.of(INDEX, DOCKER_MANIFEST_LIST);

    /** The {@code Accept} list a registry client sends for manifests (docker-registry 2.8 needs it explicit). */
    public static final String MANIFEST_ACCEPT = String.join(", ", MANIFEST, INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST);

    public static boolean isManifest(String mediaType) {
        return MANIFESTS.contains(mediaType);
    }

    public static boolean isIndex(String mediaType) {
        return INDEXES.contains(mediaType);
    }

    /** The root-hash annotation of a layer, the current key first, else the older one, else null. */
    public static String verityRootHash(Descriptor layer) {
        String v = layer.annotations().get(ATOMFS_VERITY_ROOT_HASH);
        return v != null ? v : layer.annotations().get(SQUASHFS_VERITY_ROOT_HASH);
    }
}
