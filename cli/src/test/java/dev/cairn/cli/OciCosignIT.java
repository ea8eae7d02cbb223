package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.Digest;
import dev.cairn.oci.OciLayout;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn oci sign|verify} (cosign's tag-based signature) checked by OpenSSL: the signature
 * in the {@code sha256-<hex>.sig} manifest verifies over the payload with the signer's public key,
 * the payload names the manifest digest skopeo computes, and tampering is caught.
 */
class OciCosignIT {
    @TempDir
    Path dir;

    /** The image and its .sig tag pushed to docker-registry 2.8 arrive intact: pulled back, the signature still verifies. */
    @Test
    void signatureTagTravelsThroughARegistry() throws Exception {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "pushed and signed\n");
        Path img = dir.resolve("img");
        assertThat(run("oci", "layer", "add", img + ":app", tree.toString(), "--type", "tar+gzip").code()).isZero();
        Path key = TestPki.get().ecLeaf().writeKeyPem(dir.resolve("ec.key"));
        Path cert = TestPki.get().ecLeaf().writeCertPem(dir.resolve("ec.crt"));
        try (RegistryFixture reg = RegistryFixture.start(dir.resolve("registry"), null, null)) {
            String repo = reg.host() + "/cairn/app";
            MainTest.Run s = run("oci", "sign", img + ":app", "--reference", repo, "--key", key.toString(), "--cert", cert.toString(), "--json");
            assertThat(s.code()).as(s.err()).isZero();
            String sigTag = new ObjectMapper().readTree(s.out()).get("tag").asText();
            for (String tag : List.of("app", sigTag)) {
                MainTest.Run p = run("oci", "push", img + ":" + tag, repo + ":" + tag);
                assertThat(p.code()).as(p.err()).isZero();
            }
            String sigManifest = skopeo.runOk("inspect", "--raw", "--tls-verify=false", "docker://" + repo + ":" + sigTag).stdout();
            assertThat(sigManifest).contains(CosignSignatures.PAYLOAD_MEDIA_TYPE).contains(CosignSignatures.SIGNATURE);
            Path back = dir.resolve("back");
            for (String tag : List.of("app", sigTag)) {
                MainTest.Run p = run("oci", "pull", repo + ":" + tag, back + ":" + tag);
                assertThat(p.code()).as(p.err()).isZero();
            }
            MainTest.Run v = run("oci", "verify", back + ":app", "--cert", cert.toString());
            assertThat(v.code()).as(v.err()).isZero();
        }
    }

    @Test
    void cosignSignaturesVerifyWithOpensslAndNameTheManifestDigest() throws Exception {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "signed content\n");
        Path img = dir.resolve("img");
        assertThat(run("oci", "layer", "add", img + ":app", tree.toString(), "--type", "tar+gzip").code()).isZero();
        String raw = skopeo.runOk("inspect", "--raw", "oci:" + img + ":app").stdout();
        String manifestDigest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8)));

        for (TestPki.KeyAndCert k : List.of(TestPki.get().ecLeaf(), TestPki.get().rsaLeaf())) {
            String alg = k.key().getAlgorithm();
            Path key = k.writeKeyPem(dir.resolve(alg + ".key"));
            Path cert = k.writeCertPem(dir.resolve(alg + ".crt"));
            MainTest.Run s = run("oci", "sign", img + ":app", "--reference", "registry.example/os/app", "--key", key.toString(), "--cert",
                    cert.toString(), "--json");
            assertThat(s.code()).as(s.err()).isZero();
            JsonNode j = new ObjectMapper().readTree(s.out());
            assertThat(j.get("subject").asText()).isEqualTo(manifestDigest);
            assertThat(j.get("tag").asText()).isEqualTo("sha256-" + manifestDigest.substring(7) + ".sig");

            // the signature manifest is a valid OCI image skopeo reads; the last layer is this signature
            skopeo.runOk("inspect", "--raw", "oci:" + img + ":" + j.get("tag").asText());
            List<CosignSignatures.Signature> sigs = CosignSignatures.read(OciLayout.open(img), Digest.of(manifestDigest));
            CosignSignatures.Signature sig = sigs.get(sigs.size() - 1);
            Path payload = Files.write(dir.resolve(alg + ".payload"), sig.payload());
            Path der = Files.write(dir.resolve(alg + ".sig"), Base64.getDecoder().decode(sig.base64Signature()));
            Path pub = dir.resolve(alg + ".pub");
            openssl.runOk("x509", "-in", cert.toString(), "-pubkey", "-noout", "-out", pub.toString());
            assertThat(openssl.runOk("dgst", "-sha256", "-verify", pub.toString(), "-signature", der.toString(), payload.toString()).stdout())
                    .contains("Verified OK");
            JsonNode p = new ObjectMapper().readTree(sig.payload());
            assertThat(p.at("/critical/image/docker-manifest-digest").asText()).isEqualTo(manifestDigest);
            assertThat(p.at("/critical/identity/docker-reference").asText()).isEqualTo("registry.example/os/app");
            assertThat(p.at("/critical/type").asText()).isEqualTo("cosign container image signature");
            assertThat(new String(sig.payload(), StandardCharsets.UTF_8)).startsWith("{\"critical\":{\"identity\":").endsWith(",\"optional\":null}");
            assertThat(sig.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----");
            byte[] tampered = sig.payload();
            tampered[tampered.length - 3] ^= 1;
            Files.write(payload, tampered);
            assertThat(openssl.run(Duration.ofMinutes(1), "dgst", "-sha256", "-verify", pub.toString(), "-signature", der.toString(),
                    payload.toString()).exitCode()).isNotZero();

            MainTest.Run v = run("oci", "verify", img + ":app", "--key", pub.toString());
            assertThat(v.code()).as(v.err()).isZero();
            assertThat(run("oci", "verify", img + ":app", "--cert", cert.toString()).code()).isZero();
        }
        assertThat(CosignSignatures.read(OciLayout.open(img), Digest.of(manifestDigest))).hasSize(2);

        // a key that did not sign, and an image whose manifest changed, are refused
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        MainTest.Run other = run("oci", "verify", img + ":app", "--cert", ca.toString());
        assertThat(other.code()).isEqualTo(1);
        assertThat(other.err()).contains("does not verify");
        Files.writeString(tree.resolve("more"), "another layer\n");
        assertThat(run("oci", "layer", "add", img + ":app", tree.toString(), "--type", "tar+gzip").code()).isZero();
        MainTest.Run changed = run("oci", "verify", img + ":app", "--cert", dir.resolve("EC.crt").toString());
        assertThat(changed.code()).isEqualTo(1);
        assertThat(changed.err()).contains("no cosign signature");

        // a signature layer whose payload names another digest is refused even though it verifies
        OciLayout layout = OciLayout.open(img);
        Descriptor now = layout.resolve("app");
        List<CosignSignatures.Signature> old = CosignSignatures.read(layout, Digest.of(manifestDigest));
        CosignSignatures.attach(layout, now.digest(), old.get(0));
        MainTest.Run replayed = run("oci", "verify", img + ":app", "--cert", dir.resolve("EC.crt").toString());
        assertThat(replayed.code()).isEqualTo(1);
        assertThat(replayed.err()).contains("payload signs " + manifestDigest);
    }
}
