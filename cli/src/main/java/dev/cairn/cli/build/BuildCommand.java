package dev.cairn.cli.build;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.Progress;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.cli.oci.RegistryOptions;
import dev.cairn.cli.oci.TransferProgressLine;
import dev.cairn.oci.RegistryReference;
import dev.cairn.pipeline.BuildListener;
import dev.cairn.pipeline.BuildManifest;
import dev.cairn.pipeline.BuildRequest;
import dev.cairn.pipeline.BuildResult;
import dev.cairn.pipeline.BuildSpec;
import dev.cairn.pipeline.ImageSetBuilder;
import dev.cairn.pipeline.StepReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn build SPEC}: the whole verified-boot image set from one spec (the face of {@link ImageSetBuilder}). */
@Command(name = "build", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a complete, signed verified-boot image set from a spec.",
                "The spec is described in docs/build-spec.md. Steps: rootfs -> SquashFS + dm-verity tree -> root-hash "
                        + "signature -> IPE policy -> initramfs -> signed UKI (PCR 11 predicted, .pcrsig) -> OCI layout "
                        + "(stacker layer, UKI and policy artifacts, cosign signature) -> signed build manifest [-> registry]. "
                        + "The whole set is verified before it replaces the previous one in OUT; unchanged steps come from "
                        + "OUT/.cairn-cache (and registry caches: --cache-from/--cache-to). OUT is locked while a build writes "
                        + "it: a second build waits (--no-wait: fails).",
                "Exit 3: spec error (FILE:LINE named); 4: key source unavailable; 5: registry; 6: I/O, OUT locked "
                        + "under --no-wait, or a new set failing its own check (not kept)."})
public final class BuildCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "SPEC", description = "The build spec (YAML).")
    Path specFile;
    @Option(names = {"--out", "--output", "-o"}, paramLabel = "DIR", defaultValue = "out", description = "Output directory (default: out).")
    Path out;
    @Option(names = "--dev-keys", paramLabel = "DIR",
            description = "Where 'dev' key sources keep their throw-away keys (default: OUT/dev-keys; reused when present).")
    Path devKeys;
    @Option(names = "--force", description = "Rebuild every step, asking no cache.")
    boolean force;
    @Option(names = "--cache-from", paramLabel = "REPO",
            description = "Look steps up in this registry repository (HOST[:PORT]/REPO; repeatable, asked in order). "
                    + "A missing, broken or unreachable cache is a warning, never a failure.")
    List<String> cacheFrom = new ArrayList<>();
    @Option(names = "--cache-to", paramLabel = "REPO",
            description = "Store built steps in this registry repository, tagged STEP-KEY (repeatable). Steps that only sign are never cached.")
    List<String> cacheTo = new ArrayList<>();
    @Option(names = "--explain-cache", description = "After the build, print each step's cache result and the material of its key.")
    boolean explainCache;
    @Option(names = "--no-wait", description = "Fail at once (exit 6, naming the holder) when another build holds OUT, instead of waiting.")
    boolean noWait;
    @Option(names = "--unsigned", description = "Build everything but make no signature: leave them out and write OUT/signing-request.json "
            + "for a signing station (cairn sign request), then --inject its answers (docs/build-release.md). Roles the spec "
            + "marks {cert: FILE, defer: true} are deferred without this flag.")
    boolean unsigned;
    @Option(names = "--inject", paramLabel = "FILE", description = "Signatures (cairn sign request --out FILE) answering OUT/signing-request.json; "
            + "repeatable, one per role. Embedded, then the whole set is verified; OUT changes only then. A missing, wrong or tampered "
            + "signature is named (exit 1, or 4 for a key with another certificate) and OUT is left as it was.")
    List<Path> inject = new ArrayList<>();
    @Option(names = {"--quiet", "-q"}, description = "No step lines on standard error.")
    boolean quiet;
    @Mixin
    ThreadsOption threads;
    @Mixin
    SourceDateEpochOption sourceDateEpoch;
    @Mixin
    RegistryOptions registry;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        registry.validate();
        BuildSpec s = BuildSpec.load(specFile);
        Long sde = sourceDateEpoch.instant(spec.commandLine()).map(java.time.Instant::getEpochSecond).orElse(null);
        boolean steps = !quiet && !json.enabled();
        // explicit --username/--password-stdin credentials belong to the push destination, else to the first cache
        String explicitFor = s.outputs().push() != null ? RegistryReference.parse(s.outputs().push()).registry()
                : !cacheTo.isEmpty() ? registryOf(cacheTo.get(0)) : !cacheFrom.isEmpty() ? registryOf(cacheFrom.get(0)) : null;
        TerminalListener listener = new TerminalListener(err, steps);
        BuildRequest.Builder rb = BuildRequest.builder(s, out).devKeys(devKeys).force(force).threads(threads.threads())
                .sourceDateEpoch(sde).waitForLock(!noWait).listener(listener)
                .registries(host -> registry.client(explicitFor != null ? explicitFor : host, System.in)).unsigned(unsigned);
        inject.forEach(rb::inject);
        cacheFrom.forEach(rb::cacheFrom);
        cacheTo.forEach(rb::cacheTo);
        BuildResult r;
        try {
            r = ImageSetBuilder.build(rb.build());
        } finally {
            listener.close();
        }
        Path outDir = r.out();
        PrintWriter o = spec.commandLine().getOut();
        String pushed = null;
        if (r.signingRequest() != null) {
            return unsignedReport(o, s, r);
        }
        if (s.outputs().push() != null) {
            RegistryReference dest = RegistryReference.parse(s.outputs().push());
            try (dev.cairn.oci.RegistryClient client = registry.client(dest.registry(), System.in);
                 TransferProgressLine progress = TransferProgressLine.start(err, !steps)) {
                pushed = ImageSetBuilder.push(outDir, dest, client, progress.listener());
            }
            if (steps) {
                err.println("      pushed " + pushed);
            }
        }
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("out", outDir.toString());
            m.put("cached", r.cachedSteps());
            m.put("steps", r.steps().stream().map(BuildCommand::stepJson).toList());
            m.put("pushed", pushed);
            m.put("manifest", new com.fasterxml.jackson.databind.ObjectMapper().convertValue(r.manifest().json(), Map.class));
            JsonOption.print(o, m);
            return 0;
        }
        JsonNode man = r.manifest().json();
        o.println("Built " + s.image().name() + " " + s.image().version() + " in " + outDir
                + (r.cachedSteps().isEmpty() ? "" : " (cached: " + String.join(", ", r.cachedSteps()) + ")"));
        for (BuildManifest.Artifact a : r.manifest().artifacts()) {
            o.printf("  %-22s sha256:%s%n", a.path(), a.sha256());
        }
        o.println("  root hash              " + r.manifest().rootHash());
        for (JsonNode p : man.path("uki").path("pcr11")) {
            String phase = p.path("phase").asText();
            if (phase.equals(":") || phase.equals("enter-initrd")) {
                o.printf("  PCR 11 %-6s %-13s %s%n", p.path("bank").asText(), phase.equals(":") ? "(stub)" : phase, p.path("value").asText());
            }
        }
        o.println("  OCI                    " + outDir.resolve(man.path("oci").path("layout").asText()) + ":" + man.path("oci").path("tag").asText()
                + " " + man.path("oci").path("manifest").asText());
        o.println("  manifest               " + outDir.resolve(BuildManifest.FILE) + " (+ .p7s)");
        if (pushed != null) {
            o.println("  pushed                 " + pushed);
        }
        if (explainCache) {
            o.println("Step cache:");
            for (StepReport sr : r.steps()) {
                o.printf("  %-10s %-14s%s%n", sr.step(), sr.cache().label(), sr.source() == null ? "" : " from " + sr.source());
                if (sr.key() != null) {
                    o.println("             key " + sr.key());
                    for (String line : sr.keyMaterial()) {
                        o.println("               " + line);
                    }
                }
            }
        }
        if (r.devKeys() != null) {
            err.println("cairn: WARNING: signed with DEVELOPMENT keys from " + r.devKeys().dir() + " - not for release.");
            err.println("cairn: check it with: cairn verify " + outDir + " --ca " + r.devKeys().caCertificate() + " --db-cert "
                    + r.devKeys().dbCertificate());
        }
        return 0;
    }

    private int unsignedReport(PrintWriter o, BuildSpec s, BuildResult r) {
        dev.cairn.pipeline.SigningRequest q = r.signingRequest();
        Path file = r.out().resolve(dev.cairn.pipeline.SigningRequest.FILE);
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("out", r.out().toString());
            m.put("complete", false);
            m.put("cached", r.cachedSteps());
            m.put("signingRequest", file.toString());
            m.put("round", q.round());
            m.put("roles", q.roles());
            m.put("signatures", q.signatures().stream().map(e -> {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("id", e.id());
                x.put("role", e.role());
                x.put("description", e.description());
                x.put("artifact", e.artifact());
                return x;
            }).toList());
            JsonOption.print(o, m);
            return 0;
        }
        o.println("Built " + s.image().name() + " " + s.image().version() + " in " + r.out() + ", NOT SIGNED YET: round " + q.round()
                + " of signing, " + q.signatures().size() + " signature(s) in " + file);
        for (dev.cairn.pipeline.SigningRequest.Entry e : q.signatures()) {
            o.printf("  %-10s %-28s %s%n", e.role(), e.id(), e.description());
        }
        o.println("On the signing station, per role: cairn sign request " + file.getFileName() + " --role ROLE --out ROLE.json [key options]");
        o.println("Then here: cairn build " + specFile + " --out " + out + " --inject ROLE.json [--inject ...]");
        if (s.outputs().push() != null) {
            o.println("Not pushed (outputs.push): the set is not signed yet.");
        }
        return 0;
    }

    private static String registryOf(String repository) {
        int slash = repository.indexOf('/');
        return slash < 0 ? repository : repository.substring(0, slash);
    }

    private static Map<String, Object> stepJson(StepReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", r.step());
        m.put("cache", r.cache().label());
        m.put("source", r.source());
        m.put("key", r.key());
        m.put("keyMaterial", r.keyMaterial());
        if (!r.notes().isEmpty()) {
            m.put("notes", r.notes());
        }
        return m;
    }

    /**
     * Step lines and warnings on standard error, as cairn prints them. Where a progress line shows
     * ({@link Progress}: standard error is a terminal, not CI), a running step also has a line of
     * its own under its "[i/n] ..." line, with a spinner and the time elapsed, erased when the
     * step's result line replaces it; elsewhere the output is the same, without that line.
     */
    static final class TerminalListener implements BuildListener {
        private final PrintWriter err;
        private final boolean steps;
        private Progress running = Progress.off();

        TerminalListener(PrintWriter err, boolean steps) {
            this.err = err;
            this.steps = steps;
        }

        @Override
        public void stepStarted(int index, int total, String step, String label) {
            if (steps) {
                running.close();
                err.printf(Locale.ROOT, "[%d/%d] %s ...%n", index, total, label);
                err.flush();
                running = Progress.spinner(err, "      " + step, false);
            }
        }

        @Override
        public void stepFinished(StepReport report, Duration took) {
            if (steps) {
                running.close();
                running = Progress.off();
                String how = report.cache() == StepReport.Cache.HIT
                        ? " cached" + ("local".equals(report.source()) ? "" : " (from " + report.source() + ")") : " done";
                err.printf(Locale.ROOT, "      %s%s (%.1f s)%n", report.step(), how, took.toNanos() / 1e9);
                for (String note : report.notes()) {
                    err.println("        " + note);
                }
                err.flush();
            }
        }

        @Override
        public void warning(String message) {
            running.interject(() -> {
                err.println("cairn: warning: " + message);
                err.flush();
            });
        }

        @Override
        public void info(String message) {
            running.interject(() -> {
                err.println("cairn: " + message);
                err.flush();
            });
        }

        /** Erases a step's line left by a build that failed. */
        void close() {
            running.close();
            running = Progress.off();
        }
    }
}
