package dev.cairn.cli.sign;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.Outputs;
import dev.cairn.pipeline.SignatureSet;
import dev.cairn.pipeline.SigningRequest;
import dev.cairn.pipeline.SigningStation;
import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.KeyMaterial;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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

/** {@code cairn sign request}: the signing station's half of a split build (docs/build-release.md). */
@Command(name = "request", mixinStandardHelpOptions = true,
        description = {"Sign one key role's entries of a split build's signing request.",
                "The request is OUT/signing-request.json of `cairn build --unsigned` (docs/build-release.md).",
                "Needs only the request and the key (PEM, PKCS#12 or PKCS#11 token); prints what it signs, checks the key's",
                "certificate is the one each entry expects, and writes the signatures for `cairn build --inject`.",
                "Exit 3: malformed request or unknown kind (nothing written); 4: the key does not match the request."})
public final class SignRequestCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "REQUEST", description = "The signing request (signing-request.json).")
    Path requestFile;
    @Option(names = "--role", required = true, paramLabel = "ROLE",
            description = "The key role to sign as, as the spec names it under keys: (secureboot, pcr, manifest, verity, ipe, oci).")
    String role;
    @Option(names = {"--out", "--output", "-o"}, required = true, paramLabel = "FILE", description = "Where to write the signatures (JSON).")
    Path out;
    @Mixin
    KeyOptions keys;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        if (Files.size(requestFile) > 1024 * 1024) {
            throw new dev.cairn.pipeline.PipelineException(dev.cairn.pipeline.PipelineException.Kind.BAD_INPUT,
                    requestFile + ": larger than a signing request can be (1 MiB)");
        }
        byte[] bytes = Files.readAllBytes(requestFile);
        SigningRequest request = SigningRequest.decode(bytes, requestFile);
        String requestSha256 = sha256(bytes);
        // the plan is checked and shown before the key is opened (a token asks for its PIN only when there is work)
        List<SigningRequest.Entry> plan = SigningStation.plan(request, role, null);
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter o = spec.commandLine().getOut();
        if (!json.enabled()) {
            o.println("Signing request " + requestFile + " (sha256:" + requestSha256 + "): " + request.imageName() + " "
                    + request.imageVersion() + ", round " + request.round() + ", " + plan.size() + " signature(s) as " + role + ":");
            for (SigningRequest.Entry e : plan) {
                o.printf("  %-28s %s%n", e.id(), e.description());
                o.printf("  %-28s %s over %d bytes sha256:%s -> %s%n", "", e.algorithm(), e.data().length, e.dataSha256(), e.artifact());
            }
            o.flush();
        }
        KeyMaterial km = keys.load(err);
        SignatureSet set = SigningStation.sign(request, requestSha256, role, km);
        Outputs.write(out, set.encode());
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("request", requestFile.toString());
            m.put("requestSha256", requestSha256);
            m.put("image", Map.of("name", request.imageName(), "version", request.imageVersion()));
            m.put("round", request.round());
            m.put("role", role);
            m.put("certificateSha256", CmsSigner.fingerprint(km.certificate()));
            List<Map<String, Object>> sigs = new ArrayList<>();
            for (SigningRequest.Entry e : plan) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("id", e.id());
                s.put("kind", e.kind());
                s.put("description", e.description());
                s.put("artifact", e.artifact());
                s.put("algorithm", e.algorithm());
                s.put("dataSha256", e.dataSha256());
                sigs.add(s);
            }
            m.put("signatures", sigs);
            m.put("out", out.toString());
            JsonOption.print(o, m);
        } else {
            o.println("Wrote " + set.signatures().size() + " signature(s) to " + out + "; inject them on the build machine: cairn build SPEC --out OUT --inject "
                    + out.getFileName());
        }
        return 0;
    }

    private static String sha256(byte[] b) throws java.security.NoSuchAlgorithmException {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }
}
