package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.oci.ArtifactStore;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.Digest;
import dev.cairn.oci.NotationSignatures;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.SigstoreBundles;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn oci sign|verify --format notation|sigstore-bundle} checked by code no one here
 * wrote: the notation JWS by npm {@code jose} (plus node's X.509 chain check, and OpenSSL for the
 * RSA-PSS signature), the sigstore bundle by npm {@code @sigstore/verify} with the test CA as its
 * only trusted certificate authority (scripts in {@code src/test/node}, packages pinned by its
 * lock file and installed by {@code .ci/run}). Each oracle, and cairn's own verify, also rejects a
 * tampered signature, a tampered or replayed payload and a changed manifest. The registry test
 * signs {@code HOST/REPOSITORY:TAG} references directly in every format on docker-registry 2.8
 * (no referrers API: the sha256-&lt;hex&gt; fallback index) and runs the oracles on what the
 * registry serves.
 */
class OciSignatureOracleIT {
    static final Path NODE_DIR = Path.of("src/test/node");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private ToolOracle node() {
        ToolOracle node = ToolOracle.require("node", "nodejs");
        ToolOracle.requireNodeModules(NODE_DIR, "jose", "@sigstore/verify", "@sigstore/bundle");
        return node;
    }

    private ToolOracle.Result oracle(ToolOracle node, String script, byte[] signature, byte[] manifest, Path ca) throws Exception {
        Path s = Files.write(Files.createTempFile(dir, "sig", ".json"), signature);
        Path m = Files.write(Files.createTempFile(dir, "manifest", ".json"), manifest);
        return node.run(Duration.ofMinutes(2), null, List.of(NODE_DIR.resolve(script).toString(), s.toString(), m.toString(),
                ca.toString()), null);
    }

    /** An image with one tar layer whose content is {@code text} (same text, same digest). */
    private Path image(String name, String text) throws Exception {
        Path tree = Files.createDirectories(dir.resolve(name + "-tree"));
        Files.writeString(tree.resolve("hello"), text);
        Path img = dir.resolve(name);
        MainTest.Run r = run("oci", "layer", "add", img + ":app", tree.toString(), "--type", "tar+gzip");
        assertThat(r.code()).as(r.err()).isZero();
        return img;
    }

    private Path chainPem(TestPki.KeyAndCert k, String name) throws Exception {
        Path leaf = k.writeCertPem(dir.resolve(name + ".leaf.crt"));
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve(name + ".ca.crt"));
        return Files.writeString(dir.resolve(name + ".chain.crt"), Files.readString(leaf) + Files.readString(ca));
    }

    private static byte[] manifestBytes(Path img, Descriptor d) throws Exception {
        return Files.readAllBytes(img.resolve("blobs/sha256").resolve(d.digest().hex()));
    }

    /** The same manifest with one more space: the same JSON, other bytes, another digest. */
    private static byte[] changedManifest(byte[] manifest) {
        return new String(manifest, StandardCharsets.UTF_8).replace("\"schemaVersion\":2", "\"schemaVersion\":2 ")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String b64url(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    @Test
    void notationEnvelopesVerifyWithJoseAndTamperingIsCaught() throws Exception {
        ToolOracle node = node();
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        Path img = image("img", "signed with notation\n");
        Path other = image("other", "a different image\n");
        OciLayout layout = OciLayout.open(img);
        Descriptor subject = layout.resolve("app");
        byte[] manifest = manifestBytes(img, subject);

        for (TestPki.KeyAndCert k : List.of(TestPki.get().ecLeaf(), TestPki.get().rsaLeaf())) {
            String alg = k.key().getAlgorithm();
            Path key = k.writeKeyPem(dir.resolve(alg + ".key"));
            Path chain = chainPem(k, alg);
            MainTest.Run s = run("oci", "sign", img + ":app", "--format", "notation", "--key", key.toString(), "--cert", chain.toString(),
                    "--json");
            assertThat(s.code()).as(s.err()).isZero();
            String expectedAlg = alg.equals("EC") ? "ES256" : "PS384";
            assertThat(JSON.readTree(s.out()).get("algorithm").asText()).isEqualTo(expectedAlg);
            Digest sigManifest = Digest.of(JSON.readTree(s.out()).get("signatureManifest").asText());
            byte[] envelope = NotationSignatures.read(ArtifactStore.of(layout), subject.digest()).stream()
                    .filter(a -> a.manifest().digest().equals(sigManifest)).findFirst().orElseThrow().envelope();

            ToolOracle.Result ok = oracle(node, "verify-notation.mjs", envelope, manifest, ca);
            assertThat(ok.exitCode()).as(ok.stderr()).isZero();
            JsonNode verdict = JSON.readTree(ok.stdout());
            assertThat(verdict.get("alg").asText()).isEqualTo(expectedAlg);
            assertThat(verdict.get("digest").asText()).isEqualTo(subject.digest().toString());

            JsonNode jws = JSON.readTree(envelope);
            if (alg.equals("RSA")) { // RSASSA-PSS, SHA-384, salt 48, checked by OpenSSL too
                Path input = Files.writeString(dir.resolve("input"), jws.get("protected").asText() + "." + jws.get("payload").asText());
                Path sig = Files.write(dir.resolve("sig"), Base64.getUrlDecoder().decode(jws.get("signature").asText()));
                Path pub = dir.resolve("rsa.pub");
                openssl.runOk("x509", "-in", dir.resolve("RSA.leaf.crt").toString(), "-pubkey", "-noout", "-out", pub.toString());
                assertThat(openssl.runOk("dgst", "-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48",
                        "-verify", pub.toString(), "-signature", sig.toString(), input.toString()).stdout()).contains("Verified OK");
                Files.writeString(input, jws.get("protected").asText() + "." + b64url("{\"targetArtifact\":{}}".getBytes(StandardCharsets.UTF_8)));
                assertThat(openssl.run(Duration.ofMinutes(1), "dgst", "-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt",
                        "rsa_pss_saltlen:48", "-verify", pub.toString(), "-signature", sig.toString(), input.toString()).exitCode()).isNotZero();
            }

            // tampered signature: one bit of the signature flipped
            byte[] sigBytes = Base64.getUrlDecoder().decode(jws.get("signature").asText());
            sigBytes[sigBytes.length / 2] ^= 1;
            byte[] badSig = JSON.writeValueAsBytes(((ObjectNode) jws.deepCopy()).put("signature", b64url(sigBytes)));
            ToolOracle.Result r1 = oracle(node, "verify-notation.mjs", badSig, manifest, ca);
            assertThat(r1.exitCode()).isEqualTo(1);
            assertThat(r1.stderr()).contains("jose rejects");
            // tampered payload: same signature, payload naming another size
            JsonNode payload = JSON.readTree(Base64.getUrlDecoder().decode(jws.get("payload").asText()));
            ((ObjectNode) payload.get("targetArtifact")).put("size", subject.size() + 1);
            byte[] badPayload = JSON.writeValueAsBytes(((ObjectNode) jws.deepCopy()).put("payload", b64url(JSON.writeValueAsBytes(payload))));
            ToolOracle.Result r2 = oracle(node, "verify-notation.mjs", badPayload, manifest, ca);
            assertThat(r2.exitCode()).isEqualTo(1);
            assertThat(r2.stderr()).contains("jose rejects");
            // changed manifest: the envelope does not describe it
            byte[] changed = changedManifest(manifest);
            ToolOracle.Result r3 = oracle(node, "verify-notation.mjs", envelope, changed, ca);
            assertThat(r3.exitCode()).isEqualTo(1);
            assertThat(r3.stderr()).contains("payload names");
            // a CA that did not issue the signer
            Path foreign = TestPki.get().secureBoot().writeCertPem(dir.resolve("foreign.crt"));
            assertThat(oracle(node, "verify-notation.mjs", envelope, manifest, foreign).exitCode()).isEqualTo(1);

            // cairn's own verify: the good signature, then each tampered envelope attached alone to a copy of the image
            MainTest.Run v = run("oci", "verify", img + ":app", "--format", "notation", "--ca", ca.toString());
            assertThat(v.code()).as(v.err()).isZero();
            assertThat(v.out()).contains("notation signature by CN=cairn test");
            for (byte[] bad : List.of(badSig, badPayload)) {
                Path copy = image("copy-" + alg + "-" + System.nanoTime(), "signed with notation\n");
                OciLayout cl = OciLayout.open(copy);
                NotationSignatures.attach(ArtifactStore.of(cl), cl.resolve("app"), bad, k.chain(), Instant.EPOCH);
                MainTest.Run rejected = run("oci", "verify", copy + ":app", "--format", "notation", "--ca", ca.toString());
                assertThat(rejected.code()).isEqualTo(1);
                assertThat(rejected.err()).contains("signature does not verify");
            }
        }

        // a validly signed envelope of another image, replayed onto this one: the payload names the other manifest
        Path key = TestPki.get().ecLeaf().writeKeyPem(dir.resolve("replay.key"));
        assertThat(run("oci", "sign", other + ":app", "--format", "notation", "--key", key.toString(), "--cert",
                dir.resolve("EC.chain.crt").toString()).code()).isZero();
        OciLayout ol = OciLayout.open(other);
        byte[] replayed = NotationSignatures.read(ArtifactStore.of(ol), ol.resolve("app").digest()).get(0).envelope();
        ToolOracle.Result r4 = oracle(node, "verify-notation.mjs", replayed, manifest, ca);
        assertThat(r4.exitCode()).isEqualTo(1);
        assertThat(r4.stderr()).contains("payload names");
        Path copy = image("replay", "signed with notation\n");
        OciLayout cl = OciLayout.open(copy);
        NotationSignatures.attach(ArtifactStore.of(cl), cl.resolve("app"), replayed, TestPki.get().ecLeaf().chain(), Instant.EPOCH);
        MainTest.Run rejected = run("oci", "verify", copy + ":app", "--format", "notation", "--ca", ca.toString());
        assertThat(rejected.code()).isEqualTo(1);
        assertThat(rejected.err()).contains("payload names").contains(ol.resolve("app").digest().toString());

        // wrong trust, and a changed image
        MainTest.Run foreignCa = run("oci", "verify", img + ":app", "--format", "notation", "--ca",
                TestPki.get().secureBoot().writeCertPem(dir.resolve("sb.crt")).toString());
        assertThat(foreignCa.code()).isEqualTo(1);
        assertThat(foreignCa.err()).contains("not trusted");
        Files.writeString(dir.resolve("img-tree/more"), "another layer\n");
        assertThat(run("oci", "layer", "add", img + ":app", dir.resolve("img-tree").toString(), "--type", "tar+gzip").code()).isZero();
        MainTest.Run changedImage = run("oci", "verify", img + ":app", "--format", "notation", "--ca", ca.toString());
        assertThat(changedImage.code()).isEqualTo(1);
        assertThat(changedImage.err()).contains("no notation signature");
    }

    @Test
    void sigstoreBundlesVerifyWithSigstoreVerifyAndTamperingIsCaught() throws Exception {
        ToolOracle node = node();
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        Path img = image("img", "signed with a sigstore bundle\n");
        OciLayout layout = OciLayout.open(img);
        Descriptor subject = layout.resolve("app");
        byte[] manifest = manifestBytes(img, subject);

        for (TestPki.KeyAndCert k : List.of(TestPki.get().ecLeaf(), TestPki.get().rsaLeaf())) {
            String alg = k.key().getAlgorithm();
            Path key = k.writeKeyPem(dir.resolve(alg + ".key"));
            Path cert = k.writeCertPem(dir.resolve(alg + ".crt"));
            MainTest.Run s = run("oci", "sign", img + ":app", "--format", "sigstore-bundle", "--key", key.toString(), "--cert",
                    cert.toString(), "--json");
            assertThat(s.code()).as(s.err()).isZero();
            Digest sigManifest = Digest.of(JSON.readTree(s.out()).get("signatureManifest").asText());
            byte[] bundle = SigstoreBundles.read(ArtifactStore.of(layout), subject.digest()).stream()
                    .filter(a -> a.manifest().digest().equals(sigManifest)).findFirst().orElseThrow().bundle();
            JsonNode b = JSON.readTree(bundle);
            assertThat(b.at("/messageSignature/messageDigest/algorithm").asText()).isEqualTo("SHA2_256");

            ToolOracle.Result ok = oracle(node, "verify-bundle.mjs", bundle, manifest, ca);
            assertThat(ok.exitCode()).as(ok.stderr()).isZero();
            assertThat(JSON.readTree(ok.stdout()).get("digest").asText()).isEqualTo(subject.digest().toString());

            byte[] sig = Base64.getDecoder().decode(b.at("/messageSignature/signature").asText());
            sig[sig.length / 2] ^= 1;
            ObjectNode badSigNode = b.deepCopy();
            ((ObjectNode) badSigNode.get("messageSignature")).put("signature", Base64.getEncoder().encodeToString(sig));
            byte[] badSig = JSON.writeValueAsBytes(badSigNode);
            ToolOracle.Result r1 = oracle(node, "verify-bundle.mjs", badSig, manifest, ca);
            assertThat(r1.exitCode()).isEqualTo(1);
            assertThat(r1.stderr()).contains("SIGNATURE_ERROR");
            // tampered payload: the message digest claims another manifest
            ObjectNode badDigestNode = b.deepCopy();
            ((ObjectNode) badDigestNode.at("/messageSignature/messageDigest")).put("digest",
                    Base64.getEncoder().encodeToString(new byte[32]));
            byte[] badDigest = JSON.writeValueAsBytes(badDigestNode);
            ToolOracle.Result r2 = oracle(node, "verify-bundle.mjs", badDigest, manifest, ca);
            assertThat(r2.exitCode()).isEqualTo(1);
            assertThat(r2.stderr()).contains("messageDigest");
            byte[] changed = changedManifest(manifest);
            ToolOracle.Result r3 = oracle(node, "verify-bundle.mjs", bundle, changed, ca);
            assertThat(r3.exitCode()).isEqualTo(1);
            assertThat(r3.stderr()).contains("SIGNATURE_ERROR");
            Path foreign = TestPki.get().secureBoot().writeCertPem(dir.resolve("foreign.crt"));
            ToolOracle.Result r4 = oracle(node, "verify-bundle.mjs", bundle, manifest, foreign);
            assertThat(r4.exitCode()).isEqualTo(1);
            assertThat(r4.stderr()).contains("CERTIFICATE_ERROR");

            MainTest.Run v = run("oci", "verify", img + ":app", "--format", "sigstore-bundle", "--ca", ca.toString());
            assertThat(v.code()).as(v.err()).isZero();
            assertThat(run("oci", "verify", img + ":app", "--format", "sigstore-bundle", "--cert", cert.toString()).code()).isZero();
            for (var bad : List.of(List.of(badSig, "signature does not verify"), List.of(badDigest, "message digest"))) {
                Path copy = image("copy-" + alg + "-" + System.nanoTime(), "signed with a sigstore bundle\n");
                OciLayout cl = OciLayout.open(copy);
                SigstoreBundles.attach(ArtifactStore.of(cl), cl.resolve("app"), (byte[]) bad.get(0), Instant.EPOCH);
                MainTest.Run rejected = run("oci", "verify", copy + ":app", "--format", "sigstore-bundle", "--ca", ca.toString());
                assertThat(rejected.code()).isEqualTo(1);
                assertThat(rejected.err()).contains((String) bad.get(1));
            }
        }
        MainTest.Run foreignCa = run("oci", "verify", img + ":app", "--format", "sigstore-bundle", "--ca",
                TestPki.get().secureBoot().writeCertPem(dir.resolve("sb.crt")).toString());
        assertThat(foreignCa.code()).isEqualTo(1);
        assertThat(foreignCa.err()).contains("not trusted");
        Files.writeString(dir.resolve("img-tree/more"), "another layer\n");
        assertThat(run("oci", "layer", "add", img + ":app", dir.resolve("img-tree").toString(), "--type", "tar+gzip").code()).isZero();
        MainTest.Run changedImage = run("oci", "verify", img + ":app", "--format", "sigstore-bundle", "--ca", ca.toString());
        assertThat(changedImage.code()).isEqualTo(1);
        assertThat(changedImage.err()).contains("no sigstore-bundle signature");
    }

    /** GET from the loopback registry with plain java.net.http (independent of cairn's client). */
    private static byte[] get(String url, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (accept != null) {
            b.header("Accept", accept);
        }
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(url).isEqualTo(200);
        return r.body();
    }

    @Test
    void registryReferencesAreSignedAndVerifiedInEveryFormat() throws Exception {
        ToolOracle node = node();
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        Path img = image("img", "signed in the registry\n");
        Path key = TestPki.get().ecLeaf().writeKeyPem(dir.resolve("ec.key"));
        Path chain = chainPem(TestPki.get().ecLeaf(), "ec");
        Path cert = TestPki.get().ecLeaf().writeCertPem(dir.resolve("ec.crt"));
        try (RegistryFixture reg = RegistryFixture.start(dir.resolve("registry"), null, null)) {
            String repo = reg.host() + "/cairn/app";
            MainTest.Run p = run("oci", "push", img + ":app", repo + ":v1");
            assertThat(p.code()).as(p.err()).isZero();
            String manifestUrl = "http://" + reg.host() + "/v2/cairn/app/manifests/";
            byte[] manifest = get(manifestUrl + "v1", "application/vnd.oci.image.manifest.v1+json");
            Digest subject = Digest.ofBytes(manifest);

            for (String format : List.of("cosign", "notation", "sigstore-bundle")) {
                MainTest.Run s = run("oci", "sign", repo + ":v1", "--format", format, "--key", key.toString(), "--cert",
                        chain.toString(), "--json");
                assertThat(s.code()).as(format + ": " + s.err()).isZero();
                assertThat(JSON.readTree(s.out()).get("subject").asText()).isEqualTo(subject.toString());
                MainTest.Run v = run("oci", "verify", repo + ":v1", "--format", format, "--ca", ca.toString());
                assertThat(v.code()).as(format + ": " + v.err()).isZero();
                assertThat(run("oci", "verify", "docker://" + repo + "@" + subject, "--format", format, "--cert", cert.toString()).code())
                        .isZero();
            }

            // docker-registry 2.8 has no referrers API: both referrers are in the fallback index skopeo reads
            JsonNode index = JSON.readTree(skopeo.runOk("inspect", "--raw", "--tls-verify=false",
                    "docker://" + repo + ":" + subject.fallbackTag()).stdout());
            assertThat(index.get("manifests").findValuesAsText("artifactType"))
                    .containsExactlyInAnyOrder(NotationSignatures.ARTIFACT_TYPE, SigstoreBundles.MEDIA_TYPE);
            JsonNode sigTag = JSON.readTree(skopeo.runOk("inspect", "--raw", "--tls-verify=false",
                    "docker://" + repo + ":" + subject.fallbackTag() + ".sig").stdout());
            assertThat(sigTag.get("layers")).hasSize(1);

            // the oracles on what the registry serves
            for (JsonNode entry : index.get("manifests")) {
                JsonNode m = JSON.readTree(get(manifestUrl + entry.get("digest").asText(), entry.get("mediaType").asText()));
                assertThat(m.at("/subject/digest").asText()).isEqualTo(subject.toString());
                byte[] blob = get("http://" + reg.host() + "/v2/cairn/app/blobs/" + m.at("/layers/0/digest").asText(), null);
                String script = entry.get("artifactType").asText().equals(NotationSignatures.ARTIFACT_TYPE)
                        ? "verify-notation.mjs" : "verify-bundle.mjs";
                ToolOracle.Result ok = oracle(node, script, blob, manifest, ca);
                assertThat(ok.exitCode()).as(script + ": " + ok.stderr()).isZero();
            }

            // signed in a layout, pushed with --referrers: every format verifies in the registry
            String fromLayout = reg.host() + "/cairn/from-layout";
            for (String format : List.of("cosign", "notation", "sigstore-bundle")) {
                List<String> args = new java.util.ArrayList<>(List.of("oci", "sign", img + ":app", "--format", format, "--key", key.toString(),
                        "--cert", chain.toString()));
                if (format.equals("cosign")) {
                    args.addAll(List.of("--reference", fromLayout));
                }
                MainTest.Run s = run(args.toArray(String[]::new));
                assertThat(s.code()).as(s.err()).isZero();
            }
            MainTest.Run pushed = run("oci", "push", "--referrers", img + ":app", fromLayout + ":v1", "--json");
            assertThat(pushed.code()).as(pushed.err()).isZero();
            assertThat(JSON.readTree(pushed.out()).get("manifests").asInt()).isEqualTo(4); // image, 2 referrers, .sig
            for (String format : List.of("cosign", "notation", "sigstore-bundle")) {
                MainTest.Run v = run("oci", "verify", fromLayout + ":v1", "--format", format, "--ca", ca.toString());
                assertThat(v.code()).as(format + ": " + v.err()).isZero();
            }

            // the tag moved to a changed image: no signature of any format covers it
            Files.writeString(dir.resolve("img-tree/more"), "another layer\n");
            assertThat(run("oci", "layer", "add", img + ":app", dir.resolve("img-tree").toString(), "--type", "tar+gzip").code()).isZero();
            assertThat(run("oci", "push", img + ":app", repo + ":v1").code()).isZero();
            for (String format : List.of("cosign", "notation", "sigstore-bundle")) {
                MainTest.Run v = run("oci", "verify", repo + ":v1", "--format", format, "--ca", ca.toString());
                assertThat(v.code()).as(format).isEqualTo(1);
                assertThat(v.err()).contains("no " + format + " signature");
            }
            // while the signed digest still verifies
            assertThat(run("oci", "verify", repo + "@" + subject, "--format", "notation", "--ca", ca.toString()).code()).isZero();
        }
    }
}
