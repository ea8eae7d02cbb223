package dev.cairn.maven;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.oci.RegistryClient;
import dev.cairn.pipeline.BuildManifest;
import dev.cairn.pipeline.BuildRequest;
import dev.cairn.pipeline.BuildResult;
import dev.cairn.pipeline.BuildSpec;
import dev.cairn.pipeline.ImageSetBuilder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.inject.Inject;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.settings.crypto.SettingsDecrypter;

/**
 * {@code cairn:build}: the whole signed, verified image set from a spec into
 * {@code outputDirectory}, through the same pipeline (and to the same bytes) as {@code cairn build}
 * (docs/maven-plugin.md).
 */
@Mojo(name = "build", defaultPhase = LifecyclePhase.PACKAGE, threadSafe = true)
public class BuildMojo extends AbstractRegistryMojo {
    /** The build spec (YAML, docs/build-spec.md); relative paths in it are relative to its directory. */
    @Parameter(property = "cairn.spec", required = true)
    private File spec;

    /** Where {@code dev} key sources keep their throw-away keys; default {@code outputDirectory/dev-keys}. */
    @Parameter(property = "cairn.devKeys")
    private File devKeys;

    /** Rebuild every step, asking no cache. */
    @Parameter(property = "cairn.force", defaultValue = "false")
    private boolean force;

    /** Registry repositories ({@code HOST[:PORT]/REPO}) to look steps up in, in order; a broken cache is a warning. */
    @Parameter(property = "cairn.cacheFrom")
    private List<String> cacheFrom = new ArrayList<>();

    /** Registry repositories to store built steps in (tagged with the step key). */
    @Parameter(property = "cairn.cacheTo")
    private List<String> cacheTo = new ArrayList<>();

    /**
     * Make no signature: leave them out and write {@code outputDirectory/signing-request.json} for a
     * signing station ({@code cairn sign request}); docs/build-release.md, two-machine workflow.
     */
    @Parameter(property = "cairn.unsigned", defaultValue = "false")
    private boolean unsigned;

    /**
     * Signature sets ({@code cairn sign request --out FILE}) answering {@code outputDirectory/signing-request.json}:
     * embedded, then the whole set is verified before the output directory changes.
     */
    @Parameter(property = "cairn.inject")
    private List<File> inject = new ArrayList<>();

    /** Worker threads for compression and hashing; 0: one per processor. */
    @Parameter(property = "cairn.threads", defaultValue = "0")
    private int threads;

    /**
     * The source date epoch for a spec that names no {@code sourceDateEpoch}: seconds since 1970 or
     * an ISO-8601 date-time with an offset. A spec's own {@code sourceDateEpoch} always wins; with
     * neither, time stamps are 0.
     */
    @Parameter(defaultValue = "${project.build.outputTimestamp}")
    private String outputTimestamp;

    /** @param settingsDecrypter Maven's decrypter for {@code settings.xml} passwords */
    @Inject
    public BuildMojo(SettingsDecrypter settingsDecrypter) {
        super(settingsDecrypter);
    }

    @Override
    String goal() {
        return "build";
    }

    @Override
    void run() throws IOException, MojoFailureException {
        BuildSpec s = BuildSpec.load(spec.toPath());
        Long sourceDateEpoch = OutputTimestamp.forRequest(s.sourceDateEpoch(), outputTimestamp);
        getLog().info(s.sourceDateEpoch() != null ? "Source date epoch " + s.sourceDateEpoch() + " (the spec's sourceDateEpoch)"
                : sourceDateEpoch != null ? "Source date epoch " + sourceDateEpoch + " (project.build.outputTimestamp " + outputTimestamp.strip() + ")"
                : "Source date epoch 0 (neither the spec nor project.build.outputTimestamp names one)");
        SettingsCredentials credentials = credentials();
        BuildRequest.Builder rb = BuildRequest.builder(s, outputDirectory.toPath())
                .devKeys(devKeys == null ? null : devKeys.toPath())
                .force(force)
                .threads(threads)
                .sourceDateEpoch(sourceDateEpoch)
                .listener(new LogBuildListener(getLog()))
                .registries(host -> new RegistryClient(RegistryClient.Options.defaults(credentials)))
                .unsigned(unsigned);
        inject.forEach(f -> rb.inject(f.toPath()));
        cacheFrom.forEach(rb::cacheFrom);
        cacheTo.forEach(rb::cacheTo);
        BuildResult r = ImageSetBuilder.build(rb.build());
        report(s, r);
    }

    private void report(BuildSpec s, BuildResult r) {
        Path out = r.out();
        if (r.signingRequest() != null) {
            dev.cairn.pipeline.SigningRequest q = r.signingRequest();
            getLog().warn("Built " + s.image().name() + " " + s.image().version() + " in " + out + ", NOT SIGNED YET: round " + q.round()
                    + ", " + q.signatures().size() + " signature(s) for " + String.join(", ", q.roles()) + " in "
                    + out.resolve(dev.cairn.pipeline.SigningRequest.FILE) + " (cairn sign request, then -Dcairn.inject=...)");
            return;
        }
        getLog().info("Built " + s.image().name() + " " + s.image().version() + " in " + out
                + (r.cachedSteps().isEmpty() ? "" : " (cached: " + String.join(", ", r.cachedSteps()) + ")"));
        for (BuildManifest.Artifact a : r.manifest().artifacts()) {
            getLog().info(String.format(Locale.ROOT, "  %-22s sha256:%s", a.path(), a.sha256()));
        }
        getLog().info("  root hash              " + r.manifest().rootHash());
        JsonNode oci = r.manifest().json().path("oci");
        getLog().info("  OCI                    " + out.resolve(oci.path("layout").asText()) + ":" + oci.path("tag").asText() + " "
                + oci.path("manifest").asText());
        getLog().info("  manifest               " + out.resolve(BuildManifest.FILE) + " (+ .p7s)");
        if (s.outputs().push() != null) {
            getLog().info("The spec's outputs.push (" + s.outputs().push() + ") is left to cairn:push (phase deploy)");
        }
        if (r.devKeys() != null) {
            getLog().warn("signed with DEVELOPMENT keys from " + r.devKeys().dir() + " - not for release.");
            getLog().info("check it with cairn:verify (ca " + r.devKeys().caCertificate() + ", dbCert " + r.devKeys().dbCertificate() + ")");
        }
    }
}
