package dev.cairn.cli.tpm;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.io.FormatException;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.tpm.NvOperation;
import dev.cairn.signing.tpm.TpmPolicy;
import dev.cairn.signing.tpm.TpmsNvPublic;
import dev.cairn.signing.tpm.TpmtPublic;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HexFormat;
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
import picocli.CommandLine.Spec;

/** {@code cairn tpm}: TPM2 values computed offline. */
@Command(name = "tpm", mixinStandardHelpOptions = true, description = "TPM2 policy digests, computed offline.")
public final class TpmCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("policy", Main.make(Policy.class));
        return m;
    }

    @Command(name = "policy", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Compute a TPM2 policy digest (SHA-256 session), as a trial session on a TPM would.",
                    "Steps run in the order their options are given: consecutive --pcr options form one PolicyPCR",
                    "(banks in the order first named, PCRs ascending, like tpm2_createpolicy -l sha256:7,11);",
                    "--authorize is PolicyAuthorize with the key's TPM name (what came before is the policy the key",
                    "approves); --nv-equals is PolicyNV on the index as written; --or is PolicyOR; --auth-value is",
                    "PolicyAuthValue. Prints the digest in hex (--json: every step)."})
    static final class Policy implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--pcr", paramLabel = "PCR:BANK=HEX", description = "PolicyPCR: the PCR must hold this value, e.g. 7:sha256=02a4… (repeatable).")
        List<String> pcrs = new ArrayList<>();
        @Option(names = "--authorize", paramLabel = "PUBKEY.pem", description = "PolicyAuthorize by this RSA or EC key (PEM/DER public key or certificate).")
        List<Path> authorize = new ArrayList<>();
        @Option(names = "--policy-ref", paramLabel = "HEX", description = "PolicyAuthorize's policy reference (default: empty).")
        String policyRef;
        @Option(names = "--nv-index", paramLabel = "0xNNNNNN", description = "PolicyNV: the NV index (0x01xxxxxx).")
        String nvIndex;
        @Option(names = "--nv-equals", paramLabel = "HEX", description = "PolicyNV: the index's contents must equal these bytes (TPM_EO_EQ).")
        List<String> nvEquals = new ArrayList<>();
        @Option(names = "--nv-operation", paramLabel = "OP", defaultValue = "eq",
                description = "PolicyNV comparison instead of eq: neq, ugt, ult, uge, ule, sgt, slt, sge, sle, bs, bc.")
        String nvOperation;
        @Option(names = "--nv-offset", paramLabel = "N", defaultValue = "0", description = "PolicyNV: offset into the index (default 0).")
        int nvOffset;
        @Option(names = "--nv-public", paramLabel = "FILE", description = "PolicyNV: the index's public area, as `tpm2_nvreadpublic INDEX` prints it.")
        Path nvPublic;
        @Option(names = "--nv-attributes", paramLabel = "ATTRS", description = "PolicyNV without --nv-public: TPMA_NV, e.g. ownerwrite|ownerread|authread or 0x00060002.")
        String nvAttributes;
        @Option(names = "--nv-size", paramLabel = "BYTES", description = "PolicyNV without --nv-public: the index's size.")
        Integer nvSize;
        @Option(names = "--or", paramLabel = "DIGEST,DIGEST", split = ",", description = "PolicyOR of these policy digests (hex; 2–8).")
        List<String> or = new ArrayList<>();
        @Option(names = "--auth-value", description = "PolicyAuthValue.")
        List<Boolean> authValue = new ArrayList<>();
        @Option(names = {"--output", "-o"}, paramLabel = "FILE", description = "Also write the digest's 32 bytes to FILE (as tpm2 -L does).")
        Path output;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            List<String[]> order = steps(spec.commandLine().getParseResult().originalArgs());
            if (order.isEmpty()) {
                throw new CairnException(ExitCode.USAGE, "give at least one policy step: --pcr, --authorize, --nv-equals, --or, --auth-value");
            }
            if (nvEquals.size() > 1 || authorize.size() > 1 && policyRef != null) {
                throw new CairnException(ExitCode.USAGE, "--nv-equals (and --authorize with --policy-ref) may be given once");
            }
            TpmPolicy p = TpmPolicy.start();
            List<TpmPolicy.PcrCondition> run = new ArrayList<>();
            for (int i = 0; i < order.size(); i++) {
                String step = order.get(i)[0];
                String value = order.get(i)[1];
                if (step.equals("--pcr")) {
                    run.add(pcr(value));
                    if (i + 1 < order.size() && order.get(i + 1)[0].equals("--pcr")) {
                        continue;
                    }
                    TpmPolicy before = p;
                    List<TpmPolicy.PcrCondition> conditions = List.copyOf(run);
                    p = step(() -> before.pcr(conditions));
                    run.clear();
                    continue;
                }
                TpmPolicy cur = p;
                switch (step) {
                    case "--authorize" -> {
                        byte[] name = TpmtPublic.name(publicKey(Path.of(value)));
                        byte[] ref = policyRef == null ? new byte[0] : hex(policyRef, "--policy-ref");
                        p = cur.authorize(name, ref);
                    }
                    case "--nv-equals" -> p = nv(cur);
                    case "--or" -> {
                        List<byte[]> d = new ArrayList<>();
                        for (String s : value.split(",")) {
                            d.add(hex(s, "--or"));
                        }
                        p = step(() -> cur.or(d));
                    }
                    case "--auth-value" -> p = cur.authValue();
                    default -> throw new IllegalStateException(step);
                }
            }
            if (output != null) {
                Outputs.write(output, p.digest());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("hash", "sha256");
                m.put("digest", p.digestHex());
                List<Map<String, Object>> steps = new ArrayList<>();
                for (TpmPolicy.Step s : p.steps()) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("step", s.kind());
                    x.put("description", s.description());
                    x.put("digest", s.digestHex());
                    steps.add(x);
                }
                m.put("steps", steps);
                JsonOption.print(out, m);
            } else {
                out.println(p.digestHex());
            }
            return 0;
        }

        /** A step whose refusal (an unsatisfiable PolicyOR, a PCR given twice) is a usage error. */
        private static TpmPolicy step(java.util.function.Supplier<TpmPolicy> s) {
            try {
                return s.get();
            } catch (IllegalArgumentException e) {
                throw new CairnException(ExitCode.USAGE, e.getMessage());
            }
        }

        /**
         * The step options in command-line order, each with its value as given ({@code --pcr=V} and
         * {@code --pcr V} alike; null for {@code --auth-value}). picocli's fields lose the order across
         * options, and split every {@code --or} into one list.
         */
        static List<String[]> steps(List<String> args) {
            List<String> steps = List.of("--pcr", "--authorize", "--nv-equals", "--or", "--auth-value");
            List<String> valued = List.of("--pcr", "--authorize", "--nv-equals", "--or", "--policy-ref", "--nv-index", "--nv-operation",
                    "--nv-offset", "--nv-public", "--nv-attributes", "--nv-size", "--output", "-o");
            List<String[]> out = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (a.equals("--")) {
                    break;
                }
                int eq = a.indexOf('=');
                String name = eq > 0 ? a.substring(0, eq) : a;
                String value = eq > 0 ? a.substring(eq + 1) : null;
                if (eq < 0 && valued.contains(a) && i + 1 < args.size()) {
                    value = args.get(++i); // the option's value, whatever it looks like
                }
                if (steps.contains(name)) {
                    out.add(new String[] {name, value});
                }
            }
            return out;
        }

        private TpmPolicy nv(TpmPolicy cur) throws IOException {
            if (nvIndex == null) {
                throw new CairnException(ExitCode.USAGE, "--nv-equals needs --nv-index");
            }
            int index = TpmsNvPublic.parseIndex(nvIndex);
            TpmsNvPublic pub;
            if (nvPublic != null) {
                if (nvAttributes != null || nvSize != null) {
                    throw new CairnException(ExitCode.USAGE, "give --nv-public, or --nv-attributes with --nv-size, not both");
                }
                if (Files.size(nvPublic) > 1 << 20) {
                    throw new FormatException(nvPublic.toString(), Files.size(nvPublic), "is not a tpm2_nvreadpublic printout (over 1 MiB)");
                }
                pub = TpmsNvPublic.parseNvReadPublic(Files.readAllBytes(nvPublic), index);
            } else {
                if (nvAttributes == null || nvSize == null) {
                    throw new CairnException(ExitCode.USAGE, "PolicyNV names the index by its public area: give --nv-public FILE, "
                            + "or --nv-attributes and --nv-size");
                }
                pub = new TpmsNvPublic(index, TpmsNvPublic.parseAttributes(nvAttributes), new byte[0], nvSize);
            }
            NvOperation op;
            try {
                op = NvOperation.of(nvOperation);
            } catch (IllegalArgumentException e) {
                throw new CairnException(ExitCode.USAGE, e.getMessage());
            }
            byte[] operand = hex(nvEquals.get(0), "--nv-equals");
            TpmsNvPublic written = pub.written();
            int offset = nvOffset;
            return step(() -> cur.nv(written, operand, offset, op));
        }

        static TpmPolicy.PcrCondition pcr(String v) {
            int colon = v.indexOf(':');
            int eq = v.indexOf('=');
            if (colon < 1 || eq < colon + 2) {
                throw new CairnException(ExitCode.USAGE, "--pcr " + v + ": expected PCR:BANK=HEX, e.g. 7:sha256=02a4…");
            }
            try {
                int index = Integer.parseInt(v.substring(0, colon));
                PcrBank bank = PcrBank.of(v.substring(colon + 1, eq).toLowerCase(Locale.ROOT));
                return new TpmPolicy.PcrCondition(bank, index, HexFormat.of().parseHex(v.substring(eq + 1)));
            } catch (IllegalArgumentException e) {
                throw new CairnException(ExitCode.USAGE, "--pcr " + v + ": " + e.getMessage());
            }
        }

        static byte[] hex(String s, String option) {
            try {
                return HexFormat.of().parseHex(s.trim());
            } catch (IllegalArgumentException e) {
                throw new CairnException(ExitCode.USAGE, option + " " + s + ": not hex");
            }
        }

        static PublicKey publicKey(Path file) throws IOException {
            String text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
            if (text.contains("-----BEGIN CERTIFICATE-----")) {
                return KeyLoader.loadCertificates(file).get(0).getPublicKey();
            }
            return KeyLoader.loadPublicKey(file);
        }
    }
}
