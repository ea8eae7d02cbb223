package dev.cairn.cli.uki;

import dev.cairn.pipeline.uki.PeSigning;

import dev.cairn.cli.FileBatch;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.signing.KeyMaterial;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn sign pe}: sbsign (and sbattach --remove) in one command, over one image or many. */
@Command(name = "pe", mixinStandardHelpOptions = true,
        description = {"Sign a PE/EFI image (UKI, kernel, boot loader) for Secure Boot, like sbsign.",
                "Authenticode SHA-256, the signature appended to any already present (multiple signers); --replace",
                "drops the old ones first, --remove-signature only removes. Writes IN.signed unless --output.",
                "Several INs: the key is loaded once, each goes to IN.signed, into",
                "--output-dir or --in-place; an image that fails is named on stderr and left",
                "untouched, the others are signed (--fail-fast stops at the first); a",
                "summary line ends the run; exit code of the first failure."})
public final class SignPeCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(arity = "1..*", paramLabel = "IN", description = "The PE/EFI image(s).")
    List<Path> inputs = new ArrayList<>();
    @Option(names = {"--output", "-o"}, paramLabel = "FILE", description = "Where to write (default: IN.signed, as sbsign; may be IN itself). One IN only.")
    Path output;
    @Option(names = "--output-dir", paramLabel = "DIR", description = "Write each signed IN as DIR/<name of IN> (created if missing).")
    Path outputDir;
    @Option(names = "--in-place", description = "Replace each IN by its signed version.")
    boolean inPlace;
    @Option(names = "--replace", description = "Remove existing signatures before adding this one.")
    boolean replace;
    @Option(names = "--remove-signature", description = "Remove signatures instead of signing (all, or the one given by --signum).")
    boolean remove;
    @Option(names = "--signum", paramLabel = "N", description = "With --remove-signature: remove only signature N (0-based, as cairn uki inspect numbers them).")
    Integer signum;
    @Mixin
    KeyOptions keys;
    @Mixin
    FileBatch.FailFastOption failFast;
    @Mixin
    ThreadsOption threads;
    @Mixin
    JsonOption json;

    private Path outputOf(Path in) {
        if (output != null) {
            return output;
        }
        if (outputDir != null) {
            return outputDir.resolve(in.getFileName());
        }
        return inPlace ? in : in.resolveSibling(in.getFileName() + ".signed");
    }

    @Override
    public Integer call() throws Exception {
        if ((output != null ? 1 : 0) + (outputDir != null ? 1 : 0) + (inPlace ? 1 : 0) > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give one of --output, --output-dir and --in-place");
        }
        if (output != null && inputs.size() > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--output takes one IN; for several use --output-dir DIR or --in-place (default: each to IN.signed)");
        }
        if (remove) {
            if (keys.present() || replace) {
                throw new IllegalArgumentException("--remove-signature takes no key and no --replace");
            }
        } else if (signum != null) {
            throw new IllegalArgumentException("--signum only goes with --remove-signature");
        }
        int workers = threads.threads();
        FileBatch.requireDistinctOutputs(spec::commandLine, inputs, this::outputOf);
        PrintWriter err = spec.commandLine().getErr();
        KeyMaterial km = remove ? null : keys.load(err);
        boolean quiet = json.enabled();
        FileBatch.Task<Map<String, Object>> task = in -> {
            Path out = outputOf(in);
            PeSigning.Rewritten w = remove
                    ? PeSigning.prepareRewrite(in, out, null, "SHA-256", i -> signum != null && i != signum)
                    : PeSigning.prepareRewrite(in, out, km, "SHA-256", i -> !replace);
            return new FileBatch.Pending<>() {
                @Override
                public void flush() throws java.io.IOException {
                    w.flush();
                }

                @Override
                public Map<String, Object> commit() throws java.io.IOException {
                    w.commit();
                    if (!quiet) {
                        err.println(remove ? "cairn: " + out + " keeps " + w.signatures() + " signature(s)"
                                : "cairn: signed " + out + " (" + w.signatures() + " signature(s))");
                    }
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("output", out.toString());
                    m.put("signatures", w.signatures());
                    return m;
                }

                @Override
                public void close() throws java.io.IOException {
                    w.close();
                }
            };
        };
        if (inputs.size() == 1 && !json.enabled()) {
            try (FileBatch.Pending<Map<String, Object>> p = task.prepare(inputs.get(0))) {
                p.commit();
            }
            return 0;
        }
        FileBatch.Result<Map<String, Object>> r = FileBatch.run(inputs, failFast.enabled(), workers, err, task);
        if (json.enabled()) {
            JsonOption.print(spec.commandLine().getOut(), r.json(remove ? "rewritten" : "signed", m -> m));
        } else {
            err.println("cairn: " + r.summary(remove ? "removed signatures from" : "signed", "images"));
        }
        return r.exitCode();
    }
}
