package dev.cairn.cli.ima;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.FileBatch;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.signing.ImaSignature;
import dev.cairn.signing.KeyMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn ima}: IMA signatures ({@code security.ima}), as evmctl. */
@Command(name = "ima", mixinStandardHelpOptions = true, description = "IMA file signatures (security.ima), like evmctl.")
public final class ImaCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("sign", Main.make(Sign.class));
        return m;
    }

    @Command(name = "sign", mixinStandardHelpOptions = true,
            description = {"Sign files with IMA signature v2, like evmctl ima_sign.",
                    "Sets security.ima (needs root and setfattr), or writes FILE.sig side files with --sigfile; --json",
                    "prints every blob (hex) for image builders.",
                    "The key is loaded once for all FILEs; a file that fails is named on",
                    "stderr and left untouched, the others are signed (--fail-fast stops at",
                    "the first); a summary line ends the run (--json: the signed files only);",
                    "exit code of the first failure."})
    static final class Sign implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(arity = "1..*", paramLabel = "FILE")
        List<Path> files = new ArrayList<>();
        @Option(names = {"--hash", "-a"}, paramLabel = "ALG", defaultValue = "sha256", description = "sha1, sha256 (default), sha384, sha512.")
        String hash;
        @Option(names = {"--sigfile", "-f"}, description = "Write FILE.sig instead of setting the xattr.")
        boolean sigfile;
        @Option(names = "--no-xattr", description = "Neither set the xattr nor write .sig files (use with --json).")
        boolean noXattr;
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
            ImaSignature.Hash h = switch (hash.toLowerCase(Locale.ROOT)) {
                case "sha1" -> ImaSignature.Hash.SHA1;
                case "sha256" -> ImaSignature.Hash.SHA256;
                case "sha384" -> ImaSignature.Hash.SHA384;
                case "sha512" -> ImaSignature.Hash.SHA512;
                default -> throw new IllegalArgumentException("--hash must be sha1, sha256, sha384 or sha512, not " + hash);
            };
            int workers = threads.threads();
            boolean writeSigfiles = sigfile && !noXattr;
            if (writeSigfiles) {
                FileBatch.requireDistinctOutputs(spec::commandLine, files, f -> Path.of(f + ".sig"));
            }
            KeyMaterial km = keys.load(spec.commandLine().getErr());
            FileBatch.Task<String> task = f -> {
                byte[] blob;
                try (InputStream in = Files.newInputStream(f)) {
                    blob = ImaSignature.sign(in, h, km);
                }
                String hex = HexFormat.of().formatHex(blob);
                if (writeSigfiles) {
                    return FileBatch.Pending.writing(Path.of(f + ".sig"), blob, hex);
                }
                return () -> {
                    if (!noXattr) {
                        setXattr(f, hex);
                    }
                    return hex;
                };
            };
            Map<String, String> out = new LinkedHashMap<>();
            int code = 0;
            if (files.size() == 1) {
                try (FileBatch.Pending<String> p = task.prepare(files.get(0))) {
                    out.put(files.get(0).toString(), p.commit());
                }
            } else {
                PrintWriter err = spec.commandLine().getErr();
                FileBatch.Result<String> r = FileBatch.run(files, failFast.enabled(), workers, err, task);
                r.outcomes().stream().filter(FileBatch.Outcome::ok).forEach(o -> out.put(o.file().toString(), o.result()));
                if (!json.enabled()) {
                    err.println("cairn: " + r.summary("signed", "files"));
                }
                code = r.exitCode();
            }
            if (json.enabled()) {
                JsonOption.print(spec.commandLine().getOut(), out);
            }
            return code;
        }

        private static void setXattr(Path f, String hex) throws IOException {
            List<String> cmd = List.of("setfattr", "-n", "security.ima", "-v", "0x" + hex, f.toString());
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                if (p.waitFor() != 0) {
                    throw new CairnException(ExitCode.IO, "cannot set security.ima on " + f + " (root and setfattr from the "
                            + "attr package are needed; or use --sigfile): " + msg);
                }
            } catch (java.io.IOException e) {
                throw new CairnException(ExitCode.IO, "cannot run setfattr (install the attr package, or use --sigfile): " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
        }
    }
}
