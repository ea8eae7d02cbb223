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

    /** An expired certificate is a warning on stderr, not a refusal: the module is signed (the kernel checks no dates). */
    @Test
    void aModuleSignedWithAnExpiredCertificateIsSignedWithAWarning() throws Exception {
        TestPki.KeyAndCert leaf = TestPki.get().rsaLeaf();
        Path key = leaf.writeKeyPem(dir.resolve("k.pem"));
        org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name("CN=cairn expired test");
        java.security.cert.X509Certificate expired = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
                new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.valueOf(7),
                        java.util.Date.from(Instant.parse("2000-01-01T00:00:00Z")), java.util.Date.from(Instant.parse("2001-01-01T00:00:00Z")),
                        name, leaf.cert().getPublicKey())
                        .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withRSA").build(leaf.key())));
        Path cert = dir.resolve("expired.pem");
        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(expired.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        byte[] elf = new byte[5000];
        System.arraycopy(new byte[] {0x7f, 'E', 'L', 'F'}, 0, elf, 0, 4);
        Path ko = Files.write(dir.resolve("m.ko"), elf);
        MainTest.Run r = run("sign", "module", "--key", key.toString(), "--cert", cert.toString(), ko.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("cairn: warning: certificate CN=cairn expired test expired on 2001-01-01T00:00:00Z");
        assertThat(dev.cairn.signing.ModuleSignature.isSigned(Files.readAllBytes(ko))).isTrue();
    }
}
