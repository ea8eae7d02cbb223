package dev.cairn.cli.oci;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.OciLayout;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.RawSignature;
import java.io.IOException;
import java.security.cert.CertificateEncodingException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci sign}: cosign's tag-based signature, in a layout (push it with the image). */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = {"Sign an image or artifact in a layout the way cosign does (simple-signing payload, signature",
                "layer at the sha256-<hex>.sig tag; `cosign verify --key --insecure-ignore-tlog` accepts it once pushed).",
                "ECDSA or RSA keys from files, PKCS#12 or a PKCS#11 token. Push both tags: cairn oci push LAYOUT:TAG and",
                "LAYOUT:sha256-<hex>.sig."})
final class SignCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "LAYOUT:TAG")
    String target;
    @Option(names = "--reference", required = true, paramLabel = "REGISTRY/REPOSITORY",
            description = "The docker-reference the payload names (where the image will live, e.g. registry.example/os/rootfs).")
    String reference;
    @Option(names = "--no-certificate", description = "Do not attach the signer certificate (dev.sigstore.cosign/certificate).")
    boolean noCertificate;
    @Mixin
    KeyOptions keys;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        LayoutRef ref = LayoutRef.parse(target, true);
        OciLayout layout = OciLayout.open(ref.layout());
        Descriptor subject = layout.resolve(ref.tag());
        KeyMaterial km = keys.load(spec.commandLine().getErr());
        byte[] payload = CosignSignatures.payload(reference, subject.digest());
        String sig = Base64.getEncoder().encodeToString(RawSignature.sign(payload, km));
        String pem = null;
        if (!noCertificate) {
            try {
                pem = dev.cairn.signing.Pem.encode("CERTIFICATE", km.certificate().getEncoded());
            } catch (CertificateEncodingException e) {
                throw new IllegalArgumentException("cannot encode the signer certificate", e);
            }
        }
        Descriptor sigManifest = CosignSignatures.attach(layout, subject.digest(), new CosignSignatures.Signature(payload, sig, pem));
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("subject", subject.digest().toString());
            m.put("tag", CosignSignatures.tag(subject.digest()));
            m.put("signatureManifest", sigManifest.digest().toString());
            JsonOption.print(spec.commandLine().getOut(), m);
        } else {
            spec.commandLine().getOut().println("Signed " + subject.digest() + ": " + ref.layout() + ":" + CosignSignatures.tag(subject.digest()));
        }
        return 0;
    }
}
