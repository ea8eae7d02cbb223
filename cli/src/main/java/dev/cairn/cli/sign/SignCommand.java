package dev.cairn.cli.sign;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.FileBatch;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.LazySpec;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.signing.CmsOptions;
import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.KeyMaterial;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

/** {@code cairn sign}: signatures over files. */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = {"Signatures: CMS/PKCS#7, kernel modules, PE/EFI (Authenticode), split-build signing requests."})
public final class SignCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("cms", Main.make(Cms.class));
        m.put("module", Main.make(Module.class));
        m.put("pe", Main.make(dev.cairn.cli.uki.SignPeCommand.class));
        m.put("request", Main.make(SignRequestCommand.class));
        return m;
    }

    @Command(name = "module", mixinStandardHelpOptions = true,
            description = {"Append a kernel module signature, like scripts/sign-file.",
                    "A detached PKCS#7 (no certificates, no signed attributes), the module_signature trailer and magic.",
                    "Signs in place unless --output.",
                    "Several MODULEs: the key is loaded once; a module that fails is named on",
                    "stderr and left untouched, the others are signed (--fail-fast stops at",
                    "the first); a summary line ends the run; exit code of the first failure."})
    static final class Module implements Callable<Integer>, LazySpec {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @picocli.CommandLine.Parameters(arity = "1..*", paramLabel = "MODULE", description = "The .ko file(s).")
        List<Path> modules = new ArrayList<>();
        @Option(names = {"--output", "-o", "--out"}, paramLabel = "FILE",
                description = "Write the signed module here instead of replacing MODULE (one MODULE only).")
        Path out;
        @Option(names = {"--hash", "--md"}, paramLabel = "ALG", defaultValue = "sha256", description = "sha256 (default), sha384, sha512.")
        String md;
        @Mixin
        KeyOptions keys;
        @Mixin
        FileBatch.FailFastOption failFast;
        @Mixin
        ThreadsOption threads;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws Exception {
            if (out != null && modules.size() > 1) {
                throw new CommandLine.ParameterException(commandLine(), "--out takes one MODULE; several modules are signed in place");
            }
            String digest = digest(md);
            int workers = threads.threads();
            // the command line (the fast path's stand-in, still being made on another thread) is asked for
            // only to report an error or print: the key loads meanwhile
            FileBatch.requireDistinctOutputs(this::commandLine, modules, m -> out != null ? out : m);
            KeyMaterial km = keys.loadQuietly();
            KeyOptions.warnValidity(km, () -> commandLine().getErr());
            dev.cairn.signing.ModuleSignature.Signer signer = dev.cairn.signing.ModuleSignature.signer(km, digest);
            FileBatch.Task<Path> task = module -> {
                byte[] ko = Files.readAllBytes(module);
                if (ko.length < 4 || ko[0] != 0x7f || ko[1] != 'E' || ko[2] != 'L' || ko[3] != 'F') {
                    throw new dev.cairn.io.FormatException("module", module, "not an ELF file (a .ko module is expected)");
                }
                byte[] signed = signer.sign(ko);
                Path target = out != null ? out : module;
                return FileBatch.Pending.writing(target, signed, target);
            };
            if (modules.size() == 1 && !json.enabled()) {
                try (FileBatch.Pending<Path> p = task.prepare(modules.get(0))) {
                    p.commit();
                }
                return 0;
            }
            FileBatch.Result<Path> r = FileBatch.run(modules, failFast.enabled(), workers, commandLine().getErr(), task);
            if (json.enabled()) {
                JsonOption.print(commandLine().getOut(), r.json("signed", target -> Map.of("output", target.toString())));
            } else {
                commandLine().getErr().println("cairn: " + r.summary("signed", "modules"));
            }
            return r.exitCode();
        }

        private CommandLine commandLine() {
            return LazySpec.of(spec).commandLine();
        }
    }

    static String digest(String md) {
        return switch (md.toLowerCase(Locale.ROOT)) {
            case "sha256" -> "SHA-256";
            case "sha384" -> "SHA-384";
            case "sha512" -> "SHA-512";
            default -> throw new IllegalArgumentException("--md must be sha256, sha384 or sha512, not " + md);
        };
    }

    @Command(name = "cms", mixinStandardHelpOptions = true,
            description = {"Sign a file as CMS/PKCS#7 SignedData, like openssl cms -sign.",
                    "Always binary: the content is never canonicalised. Detached unless --nodetach."})
    static final class Cms implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = {"--in", "-in"}, required = true, paramLabel = "FILE", description = "Content to sign.")
        Path in;
        @Option(names = {"--out", "-out", "--output", "-o"}, required = true, paramLabel = "FILE", description = "Where to write the signature.")
        Path out;
        @Option(names = {"--nodetach", "-nodetach"}, description = "Embed the content (attached signature).")
        boolean nodetach;
        @Option(names = {"--nocerts", "-nocerts"}, description = "Do not embed the signer certificate chain.")
        boolean nocerts;
        @Option(names = {"--noattr", "-noattr"}, description = "No signed attributes (as the kernel wants).")
        boolean noattr;
        @Option(names = {"--binary", "-binary"}, description = "Accepted for openssl compatibility; cairn always signs the exact bytes.")
        boolean binary;
        @Option(names = {"--outform", "-outform"}, paramLabel = "DER|PEM", defaultValue = "DER", description = "Output encoding (default DER).")
        String outform;
        @Option(names = {"--md", "-md"}, paramLabel = "ALG", defaultValue = "sha256", description = "Digest: sha256, sha384, sha512.")
        String md;
        @Option(names = {"--rsa-pss", "--keyopt"}, paramLabel = "rsa_padding_mode:pss", arity = "0..1", fallbackValue = "rsa_padding_mode:pss",
                description = "RSASSA-PSS instead of PKCS#1 v1.5 (openssl -keyopt rsa_padding_mode:pss); RSA keys only.")
        String keyopt;
        @Mixin
        KeyOptions keys;

        @Override
        public Integer call() throws IOException {
            String digest = digest(md);
            boolean pss = keyopt != null;
            if (pss && !keyopt.equals("rsa_padding_mode:pss")) {
                throw new IllegalArgumentException("only --keyopt rsa_padding_mode:pss is supported, not " + keyopt);
            }
            boolean pem = switch (outform.toUpperCase(Locale.ROOT)) {
                case "DER" -> false;
                case "PEM" -> true;
                default -> throw new IllegalArgumentException("--outform must be DER or PEM, not " + outform);
            };
            KeyMaterial km = keys.load(LazySpec.of(spec).commandLine().getErr());
            byte[] sig = CmsSigner.sign(Files.readAllBytes(in), km, new CmsOptions(!nodetach, !nocerts, !noattr, digest, pss));
            Outputs.write(out, pem ? CmsSigner.toPem(sig).getBytes(StandardCharsets.US_ASCII) : sig);
            return 0;
        }
    }
}
