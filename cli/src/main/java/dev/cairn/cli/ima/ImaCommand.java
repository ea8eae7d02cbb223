package dev.cairn.cli.ima;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.io.AtomicOutputGroup;
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
        m.put("sign", Sign::new);
        return m;
    }

    @Command(name = "sign", mixinStandardHelpOptions = true,
            description = {"Sign files with IMA signature v2, like evmctl ima_sign.",
                    "Sets security.ima (needs root and setfattr), or writes FILE.sig side files with --sigfile; --json",
                    "prints every blob (hex) for image builders."})
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
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            ImaSignature.Hash h = switch (hash.toLowerCase(Locale.ROOT)) {
                case "sha1" -> ImaSignature.Hash.SHA1;
                case "sha256" -> ImaSignature.Hash.SHA256;
                case "sha384" -> ImaSignature.Hash.SHA384;
                case "sha512" -> ImaSignature.Hash.SHA512;
                default -> throw new IllegalArgumentException("--hash must be sha1, sha256, sha384 or sha512, not " + hash);
            };
            KeyMaterial km = keys.load(spec.commandLine().getErr());
            // every file is signed before anything is written, so a bad input changes nothing
            Map<Path, byte[]> blobs = new LinkedHashMap<>();
            Map<String, String> out = new LinkedHashMap<>();
            for (Path f : files) {
                byte[] blob;
                try (InputStream in = Files.newInputStream(f)) {
                    blob = ImaSignature.sign(in, h, km);
                }
                blobs.put(f, blob);
                out.put(f.toString(), HexFormat.of().formatHex(blob));
            }
            if (sigfile && !noXattr) {
                try (AtomicOutputGroup outputs = new AtomicOutputGroup()) {
                    blobs.forEach((f, blob) -> Outputs.write(outputs, Path.of(f + ".sig"), blob));
                    Outputs.commit(outputs);
                }
            } else if (!noXattr) {
                for (Path f : blobs.keySet()) {
                    setXattr(f, out.get(f.toString()));
                }
            }
            PrintWriter pw = spec.commandLine().getOut();
            if (json.enabled()) {
                JsonOption.print(pw, out);
            }
            return 0;
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
