package dev.cairn.cli.ipe;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.signing.CmsOptions;
import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.ipe.IpePolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn ipe}: IPE policies for the kernel's Integrity Policy Enforcement LSM. */
@Command(name = "ipe", mixinStandardHelpOptions = true,
        description = "IPE policies: write, check and sign (for /sys/kernel/security/ipe/new_policy).")
public final class IpeCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("policy", Main.make(Policy.class));
        m.put("check", Main.make(Check.class));
        m.put("sign", Main.make(Sign.class));
        return m;
    }

    // No standard help mixin: the policy's own --version (policy_version) would shadow its -V/--version,
    // and picocli then drops --help with it. --help is declared here instead.
    @Command(name = "policy",
            description = {"Write an IPE policy that trusts the given dm-verity root hashes.",
                    "Optionally also the boot volume, signed dm-verity volumes or signed fs-verity files, for the chosen",
                    "operations."})
    static final class Policy implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;
        @Option(names = "--name", required = true, paramLabel = "NAME", description = "policy_name.")
        String name;
        @Option(names = "--version", required = true, paramLabel = "X.Y.Z", description = "policy_version (an update must be higher).")
        String version;
        @Option(names = "--default", paramLabel = "ALLOW|DENY", defaultValue = "ALLOW",
                description = "Global default for operations without their own default (default ALLOW).")
        IpePolicy.Action globalDefault;
        @Option(names = "--op-default", paramLabel = "OP=ACTION",
                description = "Default for one operation (repeatable), e.g. EXECUTE=DENY. Default: EXECUTE=DENY.")
        List<String> opDefaults = new ArrayList<>();
        @Option(names = "--ops", split = ",", paramLabel = "OP", defaultValue = "EXECUTE",
                description = "Operations the trust rules allow (default EXECUTE; e.g. EXECUTE,KMODULE).")
        List<IpePolicy.Op> ops;
        @Option(names = "--trust-roothash", paramLabel = "[ALG:]HEX", description = "Allow files on this dm-verity volume (repeatable; ALG default sha256).")
        List<String> rootHashes = new ArrayList<>();
        @Option(names = "--trust-roothash-file", paramLabel = "FILE", description = "Same, root hash read from FILE (veritysetup --root-hash-file).")
        List<Path> rootHashFiles = new ArrayList<>();
        @Option(names = "--trust-boot-verified", description = "Allow files from the initramfs/boot volume (boot_verified=TRUE).")
        boolean bootVerified;
        @Option(names = "--trust-dmverity-signature", description = "Allow any dm-verity volume with a valid root-hash signature.")
        boolean dmveritySignature;
        @Option(names = "--trust-fsverity-signature", description = "Allow fs-verity files with a valid built-in signature.")
        boolean fsveritySignature;
        @Option(names = "--rule", paramLabel = "RULE", description = "A raw rule, e.g. 'op=KMODULE boot_verified=TRUE action=ALLOW' (repeatable).")
        List<String> rawRules = new ArrayList<>();
        @Option(names = {"--output", "-o", "--out"}, paramLabel = "FILE", description = "Where to write the policy (default: stdout).")
        Path out;

        @Override
        public Integer call() throws IOException {
            Map<IpePolicy.Op, IpePolicy.Action> defaults = new EnumMap<>(IpePolicy.Op.class);
            if (opDefaults.isEmpty()) {
                defaults.put(IpePolicy.Op.EXECUTE, IpePolicy.Action.DENY);
            }
            for (String d : opDefaults) {
                String[] kv = d.split("=", 2);
                if (kv.length != 2) {
                    throw new IllegalArgumentException("--op-default must be OP=ALLOW|DENY, not '" + d + "'");
                }
                defaults.put(IpePolicy.Op.valueOf(kv[0].toUpperCase(Locale.ROOT)), IpePolicy.Action.valueOf(kv[1].toUpperCase(Locale.ROOT)));
            }
            List<String> props = new ArrayList<>();
            if (bootVerified) {
                props.add("boot_verified=TRUE");
            }
            if (dmveritySignature) {
                props.add("dmverity_signature=TRUE");
            }
            if (fsveritySignature) {
                props.add("fsverity_signature=TRUE");
            }
            List<String> hashes = new ArrayList<>(rootHashes);
            for (Path f : rootHashFiles) {
                hashes.add(Files.readString(f, StandardCharsets.US_ASCII).strip());
            }
            for (String h : hashes) {
                props.add("dmverity_roothash=" + (h.contains(":") ? h : "sha256:" + h).toLowerCase(Locale.ROOT));
            }
            List<IpePolicy.Rule> rules = new ArrayList<>();
            for (IpePolicy.Op op : ops) {
                for (String p : props) {
                    rules.add(new IpePolicy.Rule(op, List.of(IpePolicy.property(p)), IpePolicy.Action.ALLOW));
                }
            }
            StringBuilder text = new StringBuilder(new IpePolicy(name, IpePolicy.Version.parse(version), defaults, globalDefault,
                    rules).render());
            for (String r : rawRules) {
                text.append(r.strip()).append('\n');
            }
            byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
            IpePolicy.parse(bytes); // everything written must pass the kernel's grammar (and our duplicate check)
            if (out == null) {
                spec.commandLine().getOut().print(text);
            } else {
                Outputs.write(out, bytes);
            }
            return 0;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Check a policy against the kernel's IPE grammar; exit 3 naming the first bad line.")
    static final class Check implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "POLICY")
        Path policy;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            IpePolicy p = IpePolicy.parse(Files.readAllBytes(policy));
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", p.name());
                m.put("version", p.version().toString());
                m.put("globalDefault", p.globalDefault() == null ? null : p.globalDefault().name());
                Map<String, String> d = new LinkedHashMap<>();
                p.defaults().entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .forEach(e -> d.put(e.getKey().name(), e.getValue().name()));
                m.put("defaults", d);
                m.put("rules", p.rules().stream().map(Object::toString).toList());
                JsonOption.print(out, m);
            } else {
                out.println(policy + ": valid IPE policy " + p.name() + " " + p.version() + ", " + p.rules().size() + " rules");
            }
            return 0;
        }
    }

    @Command(name = "sign", mixinStandardHelpOptions = true,
            description = {"Sign a policy as the attached DER PKCS#7 the kernel loads.",
                    "Like openssl smime -sign -nodetach -noattr -binary -outform der: the exact policy bytes become the",
                    "signed content."})
    static final class Sign implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "POLICY")
        Path policy;
        @Option(names = {"--output", "-o", "--out"}, required = true, paramLabel = "FILE", description = "Where to write the signed policy (.p7b).")
        Path out;
        @Option(names = "--nocerts", description = "Do not embed the signer certificate.")
        boolean nocerts;
        @Mixin
        KeyOptions keys;

        @Override
        public Integer call() throws IOException {
            byte[] text = Files.readAllBytes(policy);
            IpePolicy.parse(text);
            KeyMaterial km = keys.load(spec.commandLine().getErr());
            Outputs.write(out, CmsSigner.sign(text, km, new CmsOptions(false, !nocerts, false, "SHA-256")));
            return 0;
        }
    }
}
