package dev.cairn.cli.uki;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.uki.MeasurementRule;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.StubInfo;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.UkiProfiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn uki measure}: {@code systemd-measure calculate} for a built UKI. */
@Command(name = "measure", mixinStandardHelpOptions = true,
        description = {"Predict PCR 11 for a UKI as its stub will measure it.",
                "Printed like systemd-measure calculate (11:<bank>=<hex> per phase). The section set follows the",
                "stub's systemd version (252 measures fewer). A multi-profile UKI: one block per profile (its sections",
                "and the base's it does not override), or the one of --profile."})
public final class UkiMeasureCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "UKI", description = "The UKI.")
    Path file;
    @Option(names = "--bank", paramLabel = "BANK", split = ",", description = "sha1, sha256, sha384, sha512 (repeatable; default: all four, as systemd-measure).")
    List<String> banks;
    @Option(names = {"--phase", "--phases"}, paramLabel = "PATH", split = "[ ,]+", description = "Boot phase path, e.g. enter-initrd:leave-initrd or ':' (repeatable; default: systemd-measure's four).")
    List<String> phases;
    @Option(names = "--profile", paramLabel = "N", description = "Profile @N of a multi-profile UKI (default: every profile, each "
            + "under a '# profile @N' line).")
    Integer profile;
    @Option(names = "--rule", paramLabel = "252|253|256|257", description = "Measure as this systemd version's stub would, instead of the version found in the stub.")
    String rule;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        return print(spec, file, banks, phases, rule, profile, json.enabled());
    }

    /** Predicts and prints PCR 11 for {@code file} (shared with {@code cairn pcr predict 11}). */
    public static int print(CommandLine.Model.CommandSpec spec, Path file, List<String> banks, List<String> phases, String rule,
                            Integer profile, boolean asJson) throws IOException {
        UkiFile f = UkiFile.open(file);
        Optional<StubInfo> stub = f.stub();
        MeasurementRule r = rule != null ? MeasurementRule.parse(rule) : stub.map(StubInfo::rule).orElse(MeasurementRule.SYSTEMD_257);
        List<PcrPredictor.Bank> b = banks == null || banks.isEmpty() ? List.of(PcrPredictor.Bank.values())
                : banks.stream().map(PcrPredictor.Bank::parse).toList();
        List<String> p = (phases == null || phases.isEmpty() ? PcrPredictor.DEFAULT_PHASES : phases).stream().distinct().sorted().toList();
        int count = UkiProfiles.count(f.image().sections().stream().map(s -> s.name()).toList());
        List<Integer> which = new ArrayList<>();
        if (profile != null) {
            try {
                UkiProfiles.select(f.image().sections().stream().map(s -> s.name()).toList(), profile);
            } catch (IllegalArgumentException e) {
                throw new CairnException(ExitCode.USAGE, file + ": " + e.getMessage());
            }
            which.add(profile);
        } else {
            for (int k = 0; k < Math.max(1, count); k++) {
                which.add(k);
            }
        }
        boolean labelled = profile == null && count > 1;
        List<List<PcrPredictor.Prediction>> all = new ArrayList<>();
        for (int k : which) {
            all.add(PcrPredictor.predict(r, f.measuredSections(r, b, k), b, p));
        }
        String why = rule != null ? "as asked" : stub.map(s -> "stub systemd-stub " + s.version() + ", from its " + s.source())
                .orElse("no systemd version found in the stub: assuming a current stub");
        spec.commandLine().getErr().println("cairn: measuring with the " + r.label() + " (" + why + ")");
        PrintWriter out = spec.commandLine().getOut();
        if (asJson) {
            Map<String, List<Map<String, Object>>> m = new LinkedHashMap<>();
            for (int i = 0; i < which.size(); i++) {
                for (PcrPredictor.Prediction x : all.get(i)) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    if (count > 1 || profile != null) {
                        e.put("profile", which.get(i));
                    }
                    e.put("phase", x.phase());
                    e.put("pcr", 11);
                    e.put("hash", x.hex());
                    m.computeIfAbsent(x.bank().id(), k -> new ArrayList<>()).add(e);
                }
            }
            JsonOption.print(out, m);
            return 0;
        }
        for (int i = 0; i < which.size(); i++) {
            if (labelled) {
                out.println("# profile @" + which.get(i));
            }
            for (PcrPredictor.Prediction x : all.get(i)) {
                out.println("11:" + x.bank().id() + "=" + x.hex());
            }
        }
        return 0;
    }
}
