package dev.cairn.pipeline;

import java.nio.file.Path;
import java.util.List;

/**
 * A finished, verified build.
 *
 * @param out      the output directory now holding the set
 * @param manifest the manifest as written (and signed)
 * @param steps    each step's relation to the cache, in build order
 * @param uki      the signed UKI in {@code out}
 * @param devKeys  the development keys the set was signed with, or null when no key source was {@code dev}
 */
public record BuildResult(Path out, BuildManifest manifest, List<StepReport> steps, Path uki, DevKeyFiles devKeys) {
    public BuildResult {
        steps = List.copyOf(steps);
    }

    /** The directory of development keys, and the certificates {@code cairn verify} needs from it. */
    public record DevKeyFiles(Path dir, Path caCertificate, Path dbCertificate) {
    }

    /** The names of the steps whose outputs came from a cache. */
    public List<String> cachedSteps() {
        return steps.stream().filter(s -> s.cache() == StepReport.Cache.HIT).map(StepReport::step).toList();
    }
}
