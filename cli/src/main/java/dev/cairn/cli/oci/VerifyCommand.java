package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.io.FormatException;
import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.OciLayout;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.RawSignature;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci verify}: cosign verify --key, offline, for a layout. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Verify cosign signatures of an image in a layout against a public key or certificate (like",
                "cosign verify --key K --insecure-ignore-tlog): some signature at sha256-<hex>.sig must verify over its",
                "payload, and the payload must name the image's manifest digest. Exit 1 otherwise."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "LAYOUT:TAG")
    String target;
    @ArgGroup(multiplicity = "1")
    Trust trust;
    @Mixin
    JsonOption json;

    static final class Trust {
        @Option(names = "--key", paramLabel = "PUB.pem", description = "The signer's public key (PEM).")
        Path key;
        @Option(names = "--cert", paramLabel = "CERT", description = "The signer's certificate (its public key is used).")
        Path cert;
    }

    @Override
    public Integer call() throws IOException {
        LayoutRef ref = LayoutRef.parse(target, true);
        OciLayout layout = OciLayout.open(ref.layout());
        Descriptor subject = layout.resolve(ref.tag());
        PublicKey key = trust.key != null ? KeyLoader.loadPublicKey(trust.key) : KeyLoader.loadCertificates(trust.cert).get(0).getPublicKey();
        List<CosignSignatures.Signature> sigs = CosignSignatures.read(layout, subject.digest());
        if (sigs.isEmpty()) {
            throw new CairnException(ExitCode.VERIFICATION_FAILED, "no cosign signature for " + subject.digest() + " (no "
                    + CosignSignatures.tag(subject.digest()) + " tag in " + ref.layout() + ")");
        }
        List<String> why = new ArrayList<>();
        for (CosignSignatures.Signature s : sigs) {
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(s.base64Signature());
            } catch (IllegalArgumentException e) {
                why.add("signature is not base64");
                continue;
            }
            if (!RawSignature.verify(s.payload(), raw, key)) {
                why.add("signature does not verify with the key");
                continue;
            }
            try {
                if (!CosignSignatures.signedDigest(s.payload()).equals(subject.digest())) {
                    why.add("payload signs " + CosignSignatures.signedDigest(s.payload()) + ", not " + subject.digest());
                    continue;
                }
            } catch (FormatException e) {
                why.add(e.getMessage());
                continue;
            }
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("verified", true);
                m.put("digest", subject.digest().toString());
                m.put("payload", new String(s.payload(), java.nio.charset.StandardCharsets.UTF_8));
                JsonOption.print(spec.commandLine().getOut(), m);
            } else {
                spec.commandLine().getOut().println("Verified " + subject.digest() + " (cosign signature, " + sigs.size() + " present)");
            }
            return 0;
        }
        throw new CairnException(ExitCode.VERIFICATION_FAILED, "no cosign signature of " + subject.digest() + " verifies: "
                + String.join("; ", why));
    }
}
