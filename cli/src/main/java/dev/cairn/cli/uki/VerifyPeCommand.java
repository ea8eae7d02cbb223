package dev.cairn.cli.uki;

import dev.cairn.pipeline.uki.PeSigning;

import dev.cairn.cli.JsonOption;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.authenticode.AuthenticodeVerifier;
import dev.cairn.uki.UkiFile;
import java.io.IOException;
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

/** {@code cairn verify pe}: sbverify --cert. */
@Command(name = "pe", mixinStandardHelpOptions = true,
        description = {"Verify a PE/EFI image's Authenticode signature, like sbverify --cert.",
                "Against a certificate or CA: exit 0 when a signature by a trusted certificate covers the image as it is,",
                "1 otherwise."})
public final class VerifyPeCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "FILE", description = "The PE/EFI image.")
    Path file;
    @Option(names = {"--cert", "--ca"}, required = true, paramLabel = "FILE", description = "Trusted certificate(s): the db certificate or a CA.")
    Path cert;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        AuthenticodeVerifier.Verified v = PeSigning.verify(UkiFile.open(file), KeyLoader.loadCertificates(cert));
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file.toString());
            m.put("verified", true);
            m.put("signer", v.signer().getSubjectX500Principal().getName());
            m.put("trustedBy", v.trustedBy().getSubjectX500Principal().getName());
            m.put("imageDigest", v.signature().imageDigestHex());
            JsonOption.print(spec.commandLine().getOut(), m);
        } else {
            spec.commandLine().getOut().println("Signature verification OK (signer " + v.signer().getSubjectX500Principal().getName() + ")");
        }
        return 0;
    }
}
