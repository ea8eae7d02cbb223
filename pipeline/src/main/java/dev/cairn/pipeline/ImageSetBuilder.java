package dev.cairn.pipeline;

import dev.cairn.oci.ImageTransfer;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.nio.file.Path;

/**
 * cairn's main job as a library call: a spec to a signed, verified image set, the same steps and
 * bytes as {@code cairn build}. The output directory is locked for the build (a second build waits
 * or, without {@link BuildRequest#waitForLock()}, fails naming the holder); the set is built in
 * {@code OUT/.cairn-staging}, checked as a whole, and only then replaces what OUT held.
 *
 * <pre>{@code
 * BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(Path.of("image.yaml")), Path.of("out")).build());
 * }</pre>
 *
 * Failures are {@link PipelineException}s ({@link SpecException} for the spec, naming its line);
 * {@link IOException}s are problems reading an input or writing an output, naming the file.
 */
public final class ImageSetBuilder {
    private ImageSetBuilder() {
    }

    public static BuildResult build(BuildRequest request) throws IOException {
        Path out = request.out().toAbsolutePath().normalize();
        int threads = request.threads() == 0 ? Runtime.getRuntime().availableProcessors() : request.threads();
        // every key source that can fail is tried before OUT (and its lock) is made
        BuildKeys.Prepared prepared = BuildKeys.prepare(request.spec());
        try (RegistryStepCache remote = RegistryStepCache.of(request.cacheFrom(), request.cacheTo(), request.registries(),
                request.listener());
             OutputLock lock = OutputLock.acquire(out, request.waitForLock(), request.listener())) {
            BuildKeys keys = prepared.load(request.devKeys() != null ? request.devKeys() : out.resolve("dev-keys"), request.listener());
            BuildPipeline.Outcome o = BuildPipeline.run(request.spec(), keys, new BuildPipeline.Options(out, request.force(), threads,
                    request.effectiveSourceDateEpoch(), request.listener(), remote));
            DevKeys dev = keys.dev();
            return new BuildResult(out, BuildManifest.of(o.manifest()), o.steps(), o.uki(), dev == null ? null
                    : new BuildResult.DevKeyFiles(dev.dir(), dev.caCertificate(), dev.dbCertificate()));
        }
    }

    /**
     * Pushes the set's OCI image in {@code out} with everything that refers to it (UKI and policy
     * artifacts, cosign signature) to {@code destination}; returns {@code destination@digest}.
     */
    public static String push(Path out, RegistryReference destination, RegistryClient client) throws IOException {
        return push(out, destination, client, dev.cairn.oci.TransferProgress.NONE);
    }

    /** Like {@link #push(Path, RegistryReference, RegistryClient)}, telling {@code progress} of each blob sent. */
    public static String push(Path out, RegistryReference destination, RegistryClient client, dev.cairn.oci.TransferProgress progress)
            throws IOException {
        BuildManifest m = BuildManifest.read(out);
        String layoutDir = m.json().path("oci").path("layout").asText("");
        String tag = m.json().path("oci").path("tag").asText("");
        if (layoutDir.isEmpty() || layoutDir.contains("..") || tag.isEmpty()) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, out + ": the manifest names no OCI layout to push");
        }
        OciLayout layout = OciLayout.open(out.resolve(layoutDir));
        try {
            ImageTransfer.TransferResult t = ImageTransfer.push(layout, tag, client, destination, progress);
            ImageTransfer.pushReferrers(layout, t.root().digest(), client, destination, progress);
            return destination + "@" + t.root().digest();
        } catch (RegistryException e) {
            throw new PipelineException(PipelineException.Kind.REGISTRY, "the image set in " + out + " is complete, but pushing it to "
                    + destination + " failed: " + e.getMessage(), e);
        }
    }
}
