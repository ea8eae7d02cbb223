package dev.cairn.cli.sign;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.io.FormatException;
import dev.cairn.signing.CmsVerifier;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.SigningException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cairn verify}: check signatures. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Verify a whole image set from 'cairn build' offline, or single signatures.",
                "OUT (or its manifest.json) is checked link by link: exit 0 when every link holds, 1 naming each",
                "broken one. The subcommands verify single signatures: CMS/PKCS#7, PE/EFI Authenticode."})
public final class VerifyCommand extends CommandGroup implements Main.LazySubcommands {
    @Spec
    CommandLine.Model.CommandSpec self;
    @picocli.CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "OUT|MANIFEST",
            description = "Build output directory, or its manifest.json.")
    Path target;
    @Option(names = "--ca", paramLabel = "CERT", description = "CA certificate the build manifest's signer must chain to.")
    Path ca;
    @Option(names = "--db-cert", paramLabel = "CERT",
            description = "Secure Boot db certificate the UKI, root-hash and policy signatures must chain to (default: the certificates the signed manifest pins).")
    Path dbCert;
    @picocli.CommandLine.Mixin
    dev.cairn.cli.JsonOption json;

    @Override
    public Integer call() {
        if (target == null) {
            return super.call();
        }
        if (ca == null) {
            throw new CommandLine.ParameterException(self.commandLine(), "verifying an image set needs --ca CERT");
        }
        try {
            return dev.cairn.cli.build.ImageSetCommand.verify(target, ca, dbCert, json.enabled(), self.commandLine().getOut());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("cms", Main.make(Cms.class));
        m.put("pe", Main.make(dev.cairn.cli.uki.VerifyPeCommand.class));
        return m;
    }

    @Command(name = "cms", mixinStandardHelpOptions = true,
            description = {"Verify a CMS/PKCS#7 signature against a CA or the signer's certificate.",
                    "Exit 0 when valid and trusted, 1 when not."})
    static final class Cms implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = {"--in", "-in"}, required = true, paramLabel = "FILE", description = "The signature (DER or PEM).")
        Path in;
        @Option(names = {"--content", "-content"}, paramLabel = "FILE", description = "The signed content, for a detached signature.")
        Path content;
        @Option(names = {"--CAfile", "-CAfile", "--ca", "--cert"}, required = true, paramLabel = "FILE",
                description = "Trusted certificates: a CA, or the signer certificate itself.")
        Path trusted;
        @Option(names = {"--certfile", "-certfile"}, paramLabel = "FILE", description = "Extra certificates to find the signer among.")
        Path certfile;
        @Option(names = {"--out", "-out", "--output", "-o"}, paramLabel = "FILE", description = "Write the verified content here.")
        Path out;

        @Override
        public Integer call() throws IOException {
            byte[] sig = readSignature(in);
            List<X509Certificate> trust = KeyLoader.loadCertificates(trusted);
            List<X509Certificate> extra = certfile == null ? List.of() : new ArrayList<>(KeyLoader.loadCertificates(certfile));
            byte[] detached = content == null ? null : Files.readAllBytes(content);
            CmsVerifier.Verified v;
            try {
                v = CmsVerifier.verify(sig, detached, trust, extra, Instant.now());
            } catch (SigningException e) {
                throw new CairnException(ExitCode.VERIFICATION_FAILED, "verification failed: " + e.getMessage(), e);
            }
            if (out != null) {
                Outputs.write(out, v.content());
            }
            spec.commandLine().getErr().println("Verification successful: signed by " + v.signer().getSubjectX500Principal());
            return 0;
        }
    }

    /** DER as is; PEM ("CMS" or "PKCS7" armour) decoded. */
    static byte[] readSignature(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        String text = new String(b, StandardCharsets.US_ASCII);
        if (!text.startsWith("-----BEGIN")) {
            return b;
        }
        int start = text.indexOf('\n');
        int end = text.indexOf("-----END");
        if (start < 0 || end < start) {
            throw new FormatException("in", file, "malformed PEM signature");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(start + 1, end));
        } catch (IllegalArgumentException e) {
            throw new FormatException("in", file, "malformed PEM signature");
        }
    }
}
