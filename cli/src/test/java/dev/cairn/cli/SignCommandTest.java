package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.signing.CmsVerifier;
import dev.cairn.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignCommandTest {
    @TempDir
    Path dir;

    @Test
    void signsAndVerifiesCmsAndRootHashes() throws Exception {
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("c.pem"));
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        Path content = dir.resolve("policy.txt");
        Files.writeString(content, "policy_name=x policy_version=0.0.1\nDEFAULT action=ALLOW\n");
        Path sig = dir.resolve("policy.p7s");
        assertThat(run("sign", "cms", "--in", content.toString(), "--out", sig.toString(), "--key", key.toString(),
                "--cert", cert.toString(), "-nodetach", "-noattr").code()).isZero();
        assertThat(CmsVerifier.verify(Files.readAllBytes(sig), null, List.of(TestPki.get().ca().cert()), List.of(), Instant.now())
                .content()).isEqualTo(Files.readAllBytes(content));
        MainTest.Run ok = run("verify", "cms", "--in", sig.toString(), "--ca", ca.toString());
        assertThat(ok.code()).isZero();
        Path other = TestPki.get().secureBoot().writeCertPem(dir.resolve("other.pem"));
        assertThat(run("verify", "cms", "--in", sig.toString(), "--ca", other.toString()).code()).isEqualTo(1);

        String root = "e88d6d926f3a9320a88a89bb32a0b227975dd24a9cb22145b5572b26e8da039d";
        Path rsig = dir.resolve("root.p7s");
        Path json = dir.resolve("root.json");
        assertThat(run("verity", "sign", root, "--out", rsig.toString(), "--systemd-json", json.toString(),
                "--key", key.toString(), "--cert", cert.toString()).code()).isZero();
        CmsVerifier.verify(Files.readAllBytes(rsig), root.getBytes(StandardCharsets.US_ASCII),
                List.of(TestPki.get().ca().cert()), List.of(), Instant.now());
        assertThat(Files.readString(json)).startsWith("{\"rootHash\":\"" + root + "\"");
    }

    @Test
    void keyProblemsExitFourWithoutSecretsOrOutput() throws Exception {
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path wrongCert = TestPki.get().ecLeaf().writeCertPem(dir.resolve("c.pem"));
        Path content = dir.resolve("x");
        Files.writeString(content, "x");
        MainTest.Run r = run("sign", "cms", "--in", content.toString(), "--out", dir.resolve("x.p7s").toString(),
                "--key", key.toString(), "--cert", wrongCert.toString());
        assertThat(r.code()).isEqualTo(4);
        assertThat(r.err()).contains("does not");
        assertThat(dir.resolve("x.p7s")).doesNotExist();
        Path pass = dir.resolve("pass");
        Files.writeString(pass, "s3cret-value\n");
        MainTest.Run p12 = run("sign", "cms", "--in", content.toString(), "--out", dir.resolve("y.p7s").toString(),
                "--pkcs12", content.toString(), "--key-pass-file", pass.toString());
        assertThat(p12.code()).isEqualTo(4);
        assertThat(p12.err()).doesNotContain("s3cret-value");
        assertThat(run("sign", "cms", "--in", content.toString(), "--out", "o", "--key", key.toString()).code()).isEqualTo(3);
    }

    @Test
    void veritySignWhoseJsonCannotBeWrittenLeavesTheSignatureAlone() throws Exception {
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("c.pem"));
        Path rsig = dir.resolve("root.p7s");
        Files.writeString(rsig, "the previous signature");
        Path jsonDir = dir.resolve("root.json");
        Files.createDirectory(jsonDir);
        MainTest.Run r = run("verity", "sign", "e88d6d926f3a9320a88a89bb32a0b227975dd24a9cb22145b5572b26e8da039d",
                "--out", rsig.toString(), "--systemd-json", jsonDir.toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(r.code()).isEqualTo(6);
        assertThat(rsig).hasContent("the previous signature");
        assertThat(jsonDir).isEmptyDirectory();
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("k.pem", "c.pem", "root.p7s", "root.json");
        }
    }
}
