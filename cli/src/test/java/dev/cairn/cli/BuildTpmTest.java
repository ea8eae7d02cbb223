package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.ExampleSpec;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn build} records PCR 7 for the key store and the spec's version policy in the manifest;
 * both equal what {@code cairn pcr predict 7} (from the signed UKI) and {@code cairn tpm policy} print.
 */
class BuildTpmTest {
    @TempDir
    Path dir;

    @Test
    void manifestPredictsPcr7AndTheVersionPolicy() throws Exception {
        Path template = ToolOracle.requireFile(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), "ovmf");
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        // the machines' key store: the example's db certificate enrolled as PK, KEK and db
        java.security.cert.X509Certificate db = dev.cairn.signing.KeyLoader.loadCertificates(dir.resolve("keys/db.crt")).get(0);
        byte[] esl = dev.cairn.signing.secureboot.EfiVariables.signatureList(java.util.UUID.fromString("11111111-2222-3333-4444-555555555555"), db);
        Files.write(dir.resolve("store.fd"), dev.cairn.signing.secureboot.OvmfVarStore.enroll(Files.readAllBytes(template),
                dev.cairn.signing.secureboot.OvmfVarStore.secureBoot(esl, esl, esl, null, java.time.Instant.ofEpochSecond(1700000000))));
        Files.writeString(spec, "tpm:\n  keyStore: store.fd\n  policy:\n    nvIndex: 0x1500020\n    version: \"0001\"\n",
                StandardOpenOption.APPEND);
        Path out = dir.resolve("out");
        MainTest.Run r = run("build", spec.toString(), "--out", out.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode tpm = new ObjectMapper().readTree(out.resolve("manifest.json").toFile()).path("tpm");
        assertThat(tpm.at("/keyStore/file").asText()).isEqualTo("store.fd");
        assertThat(tpm.at("/keyStore/source").asText()).isEqualTo("spec");
        assertThat(tpm.at("/pcr7Authority/owner").asText()).isEqualTo("11111111-2222-3333-4444-555555555555");
        String pcr7 = null;
        for (JsonNode e : tpm.path("pcr7")) {
            if (e.path("bank").asText().equals("sha256")) {
                pcr7 = e.path("value").asText();
            }
        }
        String uki = new ObjectMapper().readTree(out.resolve("manifest.json").toFile()).at("/uki/path").asText();
        MainTest.Run p = run("pcr", "predict", "7", "--ovmf-vars", dir.resolve("store.fd").toString(),
                "--uki", out.resolve(uki).toString(), "--bank", "sha256");
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(p.out().strip()).isEqualTo("7:sha256=" + pcr7);

        MainTest.Run pol = run("tpm", "policy", "--pcr", "7:sha256=" + pcr7, "--nv-index", "0x1500020", "--nv-equals", "30303031",
                "--nv-attributes", "ownerwrite|ownerread|authread", "--nv-size", "4");
        assertThat(pol.code()).as(pol.err()).isZero();
        assertThat(tpm.at("/policy/digest").asText()).isEqualTo(pol.out().strip());
        assertThat(tpm.at("/policy/nvAttributes").asText()).isEqualTo("0x20060002");

        MainTest.Run verify = run("verify", out.toString(), "--ca", dir.resolve("keys/ca.crt").toString());
        assertThat(verify.code()).as(verify.err() + verify.out()).isZero();
    }

    @Test
    void aPolicyWithoutAKeyStoreOrABadIndexIsRefused() throws Exception {
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        String base = Files.readString(spec);
        Files.writeString(spec, base + "tpm:\n  policy:\n    nvIndex: 0x81000001\n    version: \"0001\"\n");
        MainTest.Run r = run("build", spec.toString(), "--out", dir.resolve("o1").toString(), "--quiet");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("nvIndex").doesNotContain("Exception");
        Files.writeString(spec, base + "tpm:\n  keyStore: missing.fd\n");
        assertThat(run("build", spec.toString(), "--out", dir.resolve("o2").toString(), "--quiet").err()).contains("missing.fd");
        Files.writeString(spec, base + "tpm:\n  policy:\n    nvIndex: 0x1500020\n    version: \"00001\"\n    nvSize: 4\n");
        assertThat(run("build", spec.toString(), "--out", dir.resolve("o3").toString(), "--quiet").err()).contains("longer than the index");
    }
}
