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
 * @param signingRequest the signatures still to make ({@code OUT/signing-request.json}), or null when the set is signed and verified
 */
public record BuildResult(Path out, BuildManifest manifest, List<StepReport> steps, Path uki, DevKeyFiles devKeys,
                          SigningRequest signingRequest) {
    public BuildResult {
        steps = List.copyOf(steps);
    }

    /** The directory of development keys, and the certificates {@code cairn verify} needs from it. */
    public record DevKeyFiles(Path dir, Path caCertificate, Path dbCertificate) {
    }

    /** Whether the set is signed and verified (no signing request outstanding). */
    public boolean complete() {
        return signingRequest == null;
    }

    /** The names of the steps whose outputs came from a cache. */
    public List<String> cachedSteps() {
        return steps.stream().filter(s -> s.cache() == StepReport.Cache.HIT).map(StepReport::step).toList();
    }
}
