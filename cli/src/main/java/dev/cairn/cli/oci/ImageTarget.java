package dev.cairn.cli.oci;

import dev.cairn.oci.ArtifactStore;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;

/**
 * What {@code cairn oci sign|verify} work on: {@code LAYOUT:TAG} (also {@code oci:LAYOUT:TAG}) or
 * {@code HOST[:PORT]/REPOSITORY:TAG|@DIGEST} (also {@code docker://…}). Without a prefix, an
 * existing layout directory wins; otherwise a valid registry reference (a host with a '.', a port
 * or localhost) is taken as one.
 *
 * @param store      where the image and its signatures are
 * @param reference  the tag or digest of the image in {@code store}
 * @param registry   the registry reference, or null for a layout
 * @param display    the target as given, for messages
 */
record ImageTarget(ArtifactStore store, String reference, RegistryReference registry, String display) {
    static ImageTarget open(String target, RegistryOptions options, InputStream stdin) throws IOException {
        if (target.startsWith("docker://")) {
            return remote(RegistryReference.parse(target.substring("docker://".length())), target, options, stdin);
        }
        if (target.startsWith("oci:")) {
            return local(LayoutRef.parse(target.substring(4), true), target);
        }
        LayoutRef lref = null;
        IllegalArgumentException layoutProblem = null;
        try {
            lref = LayoutRef.parse(target, true);
            if (Files.isDirectory(lref.layout())) {
                return local(lref, target);
            }
        } catch (IllegalArgumentException e) {
            layoutProblem = e;
        }
        RegistryReference r;
        try {
            r = RegistryReference.parse(target);
        } catch (IllegalArgumentException notRegistry) {
            if (layoutProblem != null) {
                throw layoutProblem;
            }
            return local(lref, target); // reports the missing layout
        }
        return remote(r, target, options, stdin);
    }

    private static ImageTarget local(LayoutRef ref, String display) throws IOException {
        return new ImageTarget(ArtifactStore.of(OciLayout.open(ref.layout())), ref.tag(), null, display);
    }

    private static ImageTarget remote(RegistryReference r, String display, RegistryOptions options, InputStream stdin)
            throws IOException {
        return new ImageTarget(ArtifactStore.of(options.client(r.registry(), stdin), r), r.reference(), r, display);
    }

    /** {@code HOST/REPOSITORY} of a registry target (cosign's docker-reference), or null for a layout. */
    String repositoryName() {
        return registry == null ? null : registry.registry() + "/" + registry.repository();
    }
}
