package dev.cairn.cli.pcr;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.Main;
import dev.cairn.cli.uki.UkiMeasureCommand;
import dev.cairn.pipeline.boot.Pcr7Predictor;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.secureboot.EfiSignatureList;
import dev.cairn.signing.secureboot.Pcr7Prediction;
import dev.cairn.uki.Pcr12Predictor;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.UkiFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn pcr}: TPM PCR values of a boot, predicted before it happens. */
@Command(name = "pcr", mixinStandardHelpOptions = true, description = "Predict TPM PCR values (7: Secure Boot state, 11: the UKI, "
        + "12: profile and add-ons).")
public final class PcrCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("predict", Main.make(Predict.class));
        return m;
    }

    /** Where the Secure Boot variables come from. */
    static final class KeyStore {
        @Option(names = "--ovmf-vars", paramLabel = "FILE", description = "An OVMF variable store (OVMF_VARS*.fd) with the keys enrolled.")
        Path ovmfVars;
        @ArgGroup(exclusive = false)
        Lists lists;
    }

    static final class Lists {
        @Option(names = "--pk", paramLabel = "FILE", required = true, description = "PK signature lists (.esl, or an .auth update).")
        Path pk;
        @Option(names = "--kek", paramLabel = "FILE", required = true, description = "KEK signature lists.")
        Path kek;
        @Option(names = "--db", paramLabel = "FILE", required = true, description = "db signature lists.")
        Path db;
        @Option(names = "--dbx", paramLabel = "FILE", description = "dbx signature lists (default: absent).")
        Path dbx;
    }

    @Command(name = "predict", mixinStandardHelpOptions = true,
            description = {"Predict PCR 7, 11 or 12 for a UKI, printed <pcr>:<bank>=<hex> like systemd-measure.",
                    "PCR 7 (firmware, Secure Boot): the SecureBoot, PK, KEK, db, dbx variables of the key store, the",
                    "separator, and one authority event per db entry that verifies the UKI and each --addon, in that",
                    "order (as edk2/OVMF measures them). PCR 11: as 'cairn uki measure', one line per phase (--profile N).",
                    "PCR 12 (systemd 257): the profile @N (--profile; sd-boot's \"@N\" with --via-systemd-boot), the",
                    "--addon command lines joined into one event, then their .dtb, .ucode and .initrd (as systemd-stub)."})
    static final class Predict implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "PCR", description = "7, 11 or 12.")
        int pcr;
        @Option(names = "--uki", paramLabel = "UKI", required = true, description = "The signed UKI the firmware starts.")
        Path uki;
        @Option(names = "--addon", paramLabel = "FILE", description = "A signed PE add-on loaded after the UKI (repeatable, in load order: \\loader\\addons\\ by name, then "
                + "<uki>.efi.extra.d\\ by name; PCR 7 and 12).")
        List<Path> addons = new ArrayList<>();
        @ArgGroup(exclusive = true)
        KeyStore store;
        @Option(names = "--bank", paramLabel = "BANK", split = ",", description = "sha1, sha256, sha384, sha512 (repeatable; default: all four).")
        List<String> banks;
        @Option(names = {"--phase", "--phases"}, paramLabel = "PATH", split = "[ ,]+", description = "PCR 11: boot phase paths (default: systemd-measure's four).")
        List<String> phases;
        @Option(names = "--profile", paramLabel = "N", description = "PCR 11 and 12: the profile booted (@N) of a multi-profile UKI "
                + "(PCR 11 default: every profile; PCR 12 default: @0).")
        Integer profile;
        @Option(names = "--via-systemd-boot", description = "PCR 12: systemd-boot starts the UKI (it measures its \"@N\" load options "
                + "for N > 0 before the stub does).")
        boolean viaSystemdBoot;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            if (pcr == 11) {
                if (store != null || !addons.isEmpty() || viaSystemdBoot) {
                    throw new CairnException(ExitCode.USAGE, "PCR 11 depends on the UKI alone: --ovmf-vars, --pk/--kek/--db, --addon and "
                            + "--via-systemd-boot are for PCR 7 and 12");
                }
                return UkiMeasureCommand.print(spec, uki, banks, phases, null, profile, json.enabled());
            }
            if (pcr == 12) {
                if (store != null || phases != null) {
                    throw new CairnException(ExitCode.USAGE, "PCR 12 depends on the UKI's profile and the add-ons: --ovmf-vars, --pk/--kek/--db "
                            + "are for PCR 7, --phase for PCR 11");
                }
                return predict12();
            }
            if (pcr != 7) {
                throw new CairnException(ExitCode.USAGE, "cairn predicts PCR 7, 11 and 12, not PCR " + pcr);
            }
            if (phases != null || profile != null || viaSystemdBoot) {
                throw new CairnException(ExitCode.USAGE, "--phase is for PCR 11, --profile for PCR 11 and 12, --via-systemd-boot for PCR 12");
            }
            if (store == null) {
                throw new CairnException(ExitCode.USAGE, "PCR 7 needs the key store: --ovmf-vars FILE, or --pk, --kek, --db [--dbx]");
            }
            Pcr7Prediction.Variables v = store.ovmfVars != null ? Pcr7Predictor.fromVarStore(store.ovmfVars)
                    : Pcr7Predictor.fromSignatureLists(store.lists.pk, store.lists.kek, store.lists.db, store.lists.dbx);
            if (v.secureBoot() != 1) {
                throw new CairnException(ExitCode.BAD_INPUT, store.ovmfVars + ": Secure Boot is not enabled in this store (no PK enrolled)");
            }
            List<Path> images = new ArrayList<>();
            images.add(uki);
            images.addAll(addons);
            Pcr7Predictor.Result r = Pcr7Predictor.predict(v, images);
            List<PcrBank> b = banks == null || banks.isEmpty() ? List.of(PcrBank.values()) : banks.stream().map(PcrCommand::bank).toList();
            PrintWriter out = spec.commandLine().getOut();
            HexFormat hex = HexFormat.of();
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("pcr", 7);
                Map<String, String> values = new LinkedHashMap<>();
                for (PcrBank bank : b) {
                    values.put(bank.jsonName(), hex.formatHex(Pcr7Prediction.replay(r.events(), bank)));
                }
                m.put("banks", values);
                List<Map<String, Object>> events = new ArrayList<>();
                for (Pcr7Prediction.Event e : r.events()) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("type", eventType(e.type()));
                    x.put("description", e.description());
                    Map<String, String> d = new LinkedHashMap<>();
                    for (PcrBank bank : b) {
                        d.put(bank.jsonName(), hex.formatHex(e.digest(bank)));
                    }
                    x.put("digests", d);
                    events.add(x);
                }
                m.put("events", events);
                List<Map<String, Object>> auth = new ArrayList<>();
                for (int i = 0; i < images.size(); i++) {
                    EfiSignatureList.Entry a = r.authorities().get(i);
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("image", images.get(i).toString());
                    x.put("owner", a.owner().toString());
                    x.put("entrySha256", hex.formatHex(a.dataSha256()));
                    auth.add(x);
                }
                m.put("authorities", auth);
                JsonOption.print(out, m);
                return 0;
            }
            for (PcrBank bank : b) {
                out.println("7:" + bank.jsonName() + "=" + hex.formatHex(Pcr7Prediction.replay(r.events(), bank)));
            }
            return 0;
        }

        private int predict12() throws IOException {
            UkiFile f = UkiFile.open(uki);
            List<Pcr12Predictor.Addon> a = new ArrayList<>();
            for (Path p : addons) {
                a.add(new Pcr12Predictor.Addon(p.getFileName().toString(), UkiFile.open(p)));
            }
            List<PcrPredictor.Bank> b = banks == null || banks.isEmpty() ? List.of(PcrPredictor.Bank.values())
                    : banks.stream().map(x -> PcrPredictor.Bank.parse(x.trim())).toList();
            Pcr12Predictor.Result r;
            try {
                r = Pcr12Predictor.predict(f, profile == null ? 0 : profile, viaSystemdBoot, a, b);
            } catch (IllegalArgumentException e) {
                throw new CairnException(ExitCode.USAGE, uki + ": " + e.getMessage());
            }
            for (String n : r.notes()) {
                spec.commandLine().getErr().println("cairn: " + n);
            }
            PrintWriter out = spec.commandLine().getOut();
            HexFormat hex = HexFormat.of();
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("pcr", 12);
                m.put("profile", profile == null ? 0 : profile);
                Map<String, String> values = new LinkedHashMap<>();
                for (PcrPredictor.Bank bank : b) {
                    values.put(bank.id(), hex.formatHex(r.replay(bank)));
                }
                m.put("banks", values);
                List<Map<String, Object>> events = new ArrayList<>();
                for (Pcr12Predictor.Event e : r.events()) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("type", e.type() == Pcr12Predictor.EV_IPL ? "EV_IPL" : "EV_EVENT_TAG");
                    if (e.tag() != 0) {
                        x.put("tag", String.format(Locale.ROOT, "0x%08x", e.tag()));
                    }
                    x.put("description", e.description());
                    x.put("eventData", hex.formatHex(e.eventData()));
                    Map<String, String> d = new LinkedHashMap<>();
                    for (PcrPredictor.Bank bank : b) {
                        d.put(bank.id(), hex.formatHex(e.digests().get(bank)));
                    }
                    x.put("digests", d);
                    events.add(x);
                }
                m.put("events", events);
                m.put("notes", r.notes());
                JsonOption.print(out, m);
                return 0;
            }
            for (PcrPredictor.Bank bank : b) {
                out.println("12:" + bank.id() + "=" + hex.formatHex(r.replay(bank)));
            }
            return 0;
        }
    }

    static PcrBank bank(String name) {
        try {
            return PcrBank.of(name.trim().toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CairnException(ExitCode.USAGE, e.getMessage());
        }
    }

    static String eventType(int type) {
        return switch (type) {
            case Pcr7Prediction.EV_SEPARATOR -> "EV_SEPARATOR";
            case Pcr7Prediction.EV_EFI_VARIABLE_DRIVER_CONFIG -> "EV_EFI_VARIABLE_DRIVER_CONFIG";
            case Pcr7Prediction.EV_EFI_VARIABLE_AUTHORITY -> "EV_EFI_VARIABLE_AUTHORITY";
            default -> String.format(Locale.ROOT, "0x%08x", type);
        };
    }
}
