package dev.cairn.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything a build needs besides the spec's own content. Make one with {@link #builder}.
 *
 * @param spec            the spec (read from a file or held in memory: {@link BuildSpec#load}, {@link BuildSpec#parse})
 * @param out             the output directory; the set replaces what is there only once it verifies
 * @param devKeys         where {@code dev} key sources keep their keys (null: {@code OUT/dev-keys})
 * @param force           rebuild every step, asking no cache
 * @param threads         worker threads for compression and hashing (0: one per processor)
 * @param sourceDateEpoch every time stamp in the set; null: the spec's {@code sourceDateEpoch}, else 0
 * @param cacheFrom       registry repositories to look steps up in ({@code HOST/REPO}), in order
 * @param cacheTo         registry repositories to store built steps in
 * @param waitForLock     wait while another build holds {@code out} (false: fail at once, naming it)
 * @param listener        progress, warnings and waits
 * @param registries      how registries (the step caches) are reached
 * @param unsigned        defer every key role to a signing station: build, leave the signatures out and write
 *                        {@code OUT/signing-request.json} (docs/build-release.md, two-machine workflow)
 * @param inject          signature sets ({@code cairn sign request} outputs) answering {@code OUT/signing-request.json};
 *                        the set replaces OUT's only once complete and verified (or holds the next round's request)
 */
public record BuildRequest(BuildSpec spec, Path out, Path devKeys, boolean force, int threads, Long sourceDateEpoch,
                           List<String> cacheFrom, List<String> cacheTo, boolean waitForLock, BuildListener listener,
                           RegistryAccess registries, boolean unsigned, List<Path> inject) {
    public BuildRequest {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(out, "out");
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (one per processor) or more, not " + threads);
        }
        if (sourceDateEpoch != null && (sourceDateEpoch < 0 || sourceDateEpoch > 253402300799L)) {
            throw new IllegalArgumentException("sourceDateEpoch must be between 0 and 253402300799, not " + sourceDateEpoch);
        }
        cacheFrom = List.copyOf(cacheFrom);
        cacheTo = List.copyOf(cacheTo);
        inject = inject == null ? List.of() : List.copyOf(inject);
        if (unsigned && !inject.isEmpty()) {
            throw new IllegalArgumentException("unsigned and inject exclude each other: inject answers the request an unsigned build wrote");
        }
        listener = listener == null ? BuildListener.NONE : listener;
        registries = registries == null ? RegistryAccess.ANONYMOUS : registries;
    }

    public static Builder builder(BuildSpec spec, Path out) {
        return new Builder(spec, out);
    }

    /** The source date epoch this build uses: the request's, else the spec's, else 0. */
    public long effectiveSourceDateEpoch() {
        return sourceDateEpoch != null ? sourceDateEpoch : spec.sourceDateEpoch() != null ? spec.sourceDateEpoch() : 0L;
    }

    /** A mutable builder for {@link BuildRequest}; every setting but spec and out is optional. */
    public static final class Builder {
        private final BuildSpec spec;
        private final Path out;
        private Path devKeys;
        private boolean force;
        private int threads;
        private Long sourceDateEpoch;
        private final List<String> cacheFrom = new ArrayList<>();
        private final List<String> cacheTo = new ArrayList<>();
        private boolean waitForLock = true;
        private BuildListener listener = BuildListener.NONE;
        private RegistryAccess registries = RegistryAccess.ANONYMOUS;
        private boolean unsigned;
        private final List<Path> inject = new ArrayList<>();

        private Builder(BuildSpec spec, Path out) {
            this.spec = spec;
            this.out = out;
        }

        public Builder devKeys(Path dir) {
            this.devKeys = dir;
            return this;
        }

        public Builder force(boolean force) {
            this.force = force;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder sourceDateEpoch(Long seconds) {
            this.sourceDateEpoch = seconds;
            return this;
        }

        public Builder cacheFrom(String repository) {
            this.cacheFrom.add(repository);
            return this;
        }

        public Builder cacheTo(String repository) {
            this.cacheTo.add(repository);
            return this;
        }

        public Builder waitForLock(boolean wait) {
            this.waitForLock = wait;
            return this;
        }

        public Builder listener(BuildListener listener) {
            this.listener = listener;
            return this;
        }

        public Builder registries(RegistryAccess access) {
            this.registries = access;
            return this;
        }

        public Builder unsigned(boolean unsigned) {
            this.unsigned = unsigned;
            return this;
        }

        public Builder inject(Path signatureSet) {
            this.inject.add(signatureSet);
            return this;
        }

        public BuildRequest build() {
            return new BuildRequest(spec, out, devKeys, force, threads, sourceDateEpoch, cacheFrom, cacheTo, waitForLock, listener,
                    registries, unsigned, inject);
        }
    }
}
