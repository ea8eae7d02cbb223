package dev.cairn.cli.uki;

import dev.cairn.pipeline.uki.PeSigning;

import dev.cairn.cli.KeyOptions;
import dev.cairn.signing.KeyMaterial;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn sign pe}: sbsign (and sbattach --remove) in one command. */
@Command(name = "pe", mixinStandardHelpOptions = true,
        description = {"Sign a PE/EFI image (UKI, kernel, boot loader) for Secure Boot, like sbsign.",
                "Authenticode SHA-256, the signature appended to any already present (multiple signers); --replace",
                "drops the old ones first, --remove-signature only removes. Writes IN.signed unless --output."})
public final class SignPeCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "IN", description = "The PE/EFI image.")
    Path in;
    @Option(names = {"--output", "-o"}, paramLabel = "FILE", description = "Where to write (default: IN.signed, as sbsign; may be IN itself).")
    Path output;
    @Option(names = "--replace", description = "Remove existing signatures before adding this one.")
    boolean replace;
    @Option(names = "--remove-signature", description = "Remove signatures instead of signing (all, or the one given by --signum).")
    boolean remove;
    @Option(names = "--signum", paramLabel = "N", description = "With --remove-signature: remove only signature N (0-based, as cairn uki inspect numbers them).")
    Integer signum;
    @Mixin
    KeyOptions keys;

    @Override
    public Integer call() throws IOException {
        Path out = output != null ? output : in.resolveSibling(in.getFileName() + ".signed");
        if (remove) {
            if (keys.present() || replace) {
                throw new IllegalArgumentException("--remove-signature takes no key and no --replace");
            }
            int left = PeSigning.rewrite(in, out, null, "SHA-256", i -> signum != null && i != signum);
            spec.commandLine().getErr().println("cairn: " + out + " keeps " + left + " signature(s)");
            return 0;
        }
        if (signum != null) {
            throw new IllegalArgumentException("--signum only goes with --remove-signature");
        }
        KeyMaterial km = keys.load(spec.commandLine().getErr());
        int n = PeSigning.rewrite(in, out, km, "SHA-256", i -> !replace);
        spec.commandLine().getErr().println("cairn: signed " + out + " (" + n + " signature(s))");
        return 0;
    }
}
