package dev.cairn.cli.build;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.cli.ThreadsOption;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn build SPEC}: the whole verified-boot image set from one spec. */
@Command(name = "build", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a complete, signed verified-boot image set from a spec",
                "(docs/build-spec.md): rootfs -> SquashFS + dm-verity tree -> root-hash",
                "signature -> IPE policy -> initramfs -> signed UKI (PCR 11 predicted,",
                ".pcrsig) -> OCI layout (stacker layer, UKI and policy artifacts, cosign",
                "signature) -> signed build manifest [-> registry]. The whole set is",
                "verified before it replaces the previous one in OUT; unchanged steps come",
                "from OUT/.cairn-cache. Exit 3: spec error (FILE:LINE named); 4: key source",
                "unavailable; 5: registry; 6: I/O, or a new set failing its own check (not kept)."})
public final class BuildCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "SPEC", description = "The build spec (YAML).")
    Path specFile;
    @Option(names = {"--out", "-o"}, paramLabel = "DIR", defaultValue = "out", description = "Output directory (default: out).")
    Path out;
    @Option(names = "--dev-keys", paramLabel = "DIR",
            description = "Where 'dev' key sources keep their throw-away keys (default: OUT/dev-keys; reused when present).")
    Path devKeys;
    @Option(names = "--force", description = "Rebuild every step, ignoring the cache.")
    boolean force;
    @Option(names = {"--quiet", "-q"}, description = "No step lines on standard error.")
    boolean quiet;
    @Mixin
    ThreadsOption threads;
    @Mixin
    SourceDateEpochOption sourceDateEpoch;
    @Mixin
    dev.cairn.cli.oci.RegistryOptions registry;
    @Mixin
    JsonOption json;

    /**
     * Pushes the finished layout's image with everything that refers to it (UKI and policy artifacts,
     * cosign signature) to {@code outputs.push}; the local set is complete before, whatever happens here.
     */
    private String push(BuildSpec s, Path outDir, BuildPipeline.Outcome r, PrintWriter err) throws IOException {
        dev.cairn.oci.RegistryReference dest = dev.cairn.oci.RegistryReference.parse(s.outputs().push());
        dev.cairn.oci.OciLayout layout = dev.cairn.oci.OciLayout.open(outDir.resolve(s.outputs().ociLayout()));
        dev.cairn.oci.RegistryClient client = registry.client(dest.registry(), System.in);
        try {
            dev.cairn.oci.ImageTransfer.TransferResult t = dev.cairn.oci.ImageTransfer.push(layout, s.outputs().tag(), client, dest);
            dev.cairn.oci.ImageTransfer.pushReferrers(layout, t.root().digest(), client, dest);
            if (!quiet && !json.enabled()) {
                err.println("      pushed " + dest + "@" + t.root().digest());
            }
            return dest + "@" + t.root().digest();
        } catch (dev.cairn.oci.RegistryException e) {
            throw new dev.cairn.cli.CairnException(dev.cairn.cli.ExitCode.REGISTRY, "the image set in " + outDir
                    + " is complete, but pushing it to " + dest + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        BuildSpec s = BuildSpec.load(specFile);
        long sde = sourceDateEpoch.instant(spec.commandLine()).map(java.time.Instant::getEpochSecond)
                .orElse(s.sourceDateEpoch() != null ? s.sourceDateEpoch() : 0L);
        Path outDir = out.toAbsolutePath().normalize();
        BuildKeys keys = BuildKeys.load(s, devKeys != null ? devKeys : outDir.resolve("dev-keys"), err);
        BuildPipeline.Outcome r = BuildPipeline.run(s, keys, new BuildPipeline.Options(outDir, force, threads.threads(), sde, err,
                quiet || json.enabled()));
        PrintWriter o = spec.commandLine().getOut();
        String pushed = s.outputs().push() == null ? null : push(s, outDir, r, err);
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("out", outDir.toString());
            m.put("cached", r.cachedSteps());
            m.put("pushed", pushed);
            m.put("manifest", new com.fasterxml.jackson.databind.ObjectMapper().convertValue(r.manifest(), Map.class));
            JsonOption.print(o, m);
            return 0;
        }
        JsonNode man = r.manifest();
        o.println("Built " + s.image().name() + " " + s.image().version() + " in " + outDir
                + (r.cachedSteps().isEmpty() ? "" : " (cached: " + String.join(", ", r.cachedSteps()) + ")"));
        for (JsonNode a : man.path("artifacts")) {
            o.printf("  %-22s sha256:%s%n", a.path("path").asText(), a.path("sha256").asText());
        }
        o.println("  root hash              " + man.path("verity").path("rootHash").asText());
        for (JsonNode p : man.path("uki").path("pcr11")) {
            String phase = p.path("phase").asText();
            if (phase.equals(":") || phase.equals("enter-initrd")) {
                o.printf("  PCR 11 %-6s %-13s %s%n", p.path("bank").asText(), phase.equals(":") ? "(stub)" : phase, p.path("value").asText());
            }
        }
        o.println("  OCI                    " + outDir.resolve(man.path("oci").path("layout").asText()) + ":" + man.path("oci").path("tag").asText()
                + " " + man.path("oci").path("manifest").asText());
        o.println("  manifest               " + outDir.resolve(BuildPipeline.MANIFEST) + " (+ .p7s)");
        if (pushed != null) {
            o.println("  pushed                 " + pushed);
        }
        if (keys.dev() != null) {
            err.println("cairn: WARNING: signed with DEVELOPMENT keys from " + keys.dev().dir() + " - not for release.");
            err.println("cairn: check it with: cairn verify " + outDir + " --ca " + keys.dev().caCertificate() + " --db-cert "
                    + keys.dev().dbCertificate());
        }
        return 0;
    }
}
