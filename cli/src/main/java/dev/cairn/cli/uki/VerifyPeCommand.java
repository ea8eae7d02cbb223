package dev.cairn.cli.uki;

import dev.cairn.pipeline.uki.PeSigning;

import dev.cairn.cli.FileBatch;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.authenticode.AuthenticodeVerifier;
import dev.cairn.uki.UkiFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
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

/** {@code cairn verify pe}: sbverify --cert, over one image or many. */
@Command(name = "pe", mixinStandardHelpOptions = true,
        description = {"Verify a PE/EFI image's Authenticode signature, like sbverify --cert.",
                "Against a certificate or CA: exit 0 when a signature by a trusted certificate covers the image as it is,",
                "1 otherwise.",
                "Several FILEs: each failing one is named on stderr (--fail-fast stops at",
                "the first), a summary line ends the run; exit code of the first failure;",
                "--json prints a list with one entry per file."})
public final class VerifyPeCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "The PE/EFI image(s).")
    List<Path> files = new ArrayList<>();
    @Option(names = {"--cert", "--ca"}, required = true, paramLabel = "FILE", description = "Trusted certificate(s): the db certificate or a CA.")
    Path cert;
    @Mixin
    FileBatch.FailFastOption failFast;
    @Mixin
    ThreadsOption threads;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        if (files.size() == 1) {
            return single(files.get(0));
        }
        int workers = threads.threads();
        List<X509Certificate> trusted = KeyLoader.loadCertificates(cert);
        PrintWriter out = spec.commandLine().getOut();
        FileBatch.Result<AuthenticodeVerifier.Verified> r = FileBatch.run(files, failFast.enabled(), workers,
                spec.commandLine().getErr(), f -> {
                    AuthenticodeVerifier.Verified v = PeSigning.verify(UkiFile.open(f), trusted);
                    return () -> {
                        if (!json.enabled()) {
                            out.println(f + ": Signature verification OK (signer " + v.signer().getSubjectX500Principal().getName() + ")");
                        }
                        return v;
                    };
                });
        if (json.enabled()) {
            JsonOption.print(out, r.json("verified", VerifyPeCommand::fields));
        } else {
            spec.commandLine().getErr().println("cairn: " + r.summary("verified", "images"));
        }
        return r.exitCode();
    }

    private int single(Path file) throws IOException {
        AuthenticodeVerifier.Verified v = PeSigning.verify(UkiFile.open(file), KeyLoader.loadCertificates(cert));
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file.toString());
            m.put("verified", true);
            m.putAll(fields(v));
            JsonOption.print(spec.commandLine().getOut(), m);
        } else {
            spec.commandLine().getOut().println("Signature verification OK (signer " + v.signer().getSubjectX500Principal().getName() + ")");
        }
        return 0;
    }

    private static Map<String, Object> fields(AuthenticodeVerifier.Verified v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("signer", v.signer().getSubjectX500Principal().getName());
        m.put("trustedBy", v.trustedBy().getSubjectX500Principal().getName());
        m.put("imageDigest", v.signature().imageDigestHex());
        return m;
    }
}
