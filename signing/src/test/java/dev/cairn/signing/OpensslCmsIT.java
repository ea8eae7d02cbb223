package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cairn's CMS signatures and key loading checked by OpenSSL. */
class OpensslCmsIT {
    static ToolOracle openssl;
    static final java.util.regex.Pattern ABSENT_ATTRS = java.util.regex.Pattern.compile("(?<!un)signedAttrs:\\s*<ABSENT>");

    @TempDir
    Path dir;

    @BeforeAll
    static void tool() {
        openssl = ToolOracle.require("openssl", "openssl");
    }

    @Test
    void opensslVerifiesEveryVariant() throws Exception {
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        Path content = dir.resolve("content");
        Files.write(content, "exact\r\nbytes\n\0with binary".getBytes(StandardCharsets.ISO_8859_1));
        for (KeyMaterial km : List.of(CmsSignerTest.rsa(), CmsSignerTest.ec())) {
            Path signerCert = dir.resolve("signer.pem");
            Files.writeString(signerCert, pem(km.certificate()));
            for (boolean detached : new boolean[] {true, false}) {
                for (boolean certs : new boolean[] {true, false}) {
                    for (boolean attrs : new boolean[] {true, false}) {
                        byte[] sig = CmsSigner.sign(Files.readAllBytes(content), km, new CmsOptions(detached, certs, attrs, "SHA-256"));
                        Path sigFile = dir.resolve("sig.der");
                        Files.write(sigFile, sig);
                        List<String> args = new ArrayList<>(List.of("cms", "-verify", "-binary", "-inform", "DER", "-in",
                                sigFile.toString(), "-CAfile", ca.toString(), "-purpose", "any", "-out", dir.resolve("out").toString()));
                        if (detached) {
                            args.addAll(List.of("-content", content.toString()));
                        }
                        if (!certs) {
                            args.addAll(List.of("-certfile", signerCert.toString()));
                        }
                        openssl.run(Duration.ofMinutes(1), args.toArray(String[]::new)).assertExit(0);
                        assertThat(Files.readAllBytes(dir.resolve("out"))).isEqualTo(Files.readAllBytes(content));
                        String print = openssl.runOk("cms", "-cmsout", "-print", "-inform", "DER", "-in", sigFile.toString()).stdout();
                        assertThat(!ABSENT_ATTRS.matcher(print).find()).as("signed attributes present").isEqualTo(attrs);
                        assertThat(print).doesNotContain("signingTime");
                    }
                }
            }
        }
    }

    @Test
    void opensslVerifiesRsaPssSignatures() throws Exception {
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        Path content = Files.write(dir.resolve("content"), "pss content".getBytes(StandardCharsets.US_ASCII));
        for (String digest : List.of("SHA-256", "SHA-384")) {
            for (boolean attrs : new boolean[] {true, false}) {
                byte[] sig = CmsSigner.sign(Files.readAllBytes(content), CmsSignerTest.rsa(), new CmsOptions(true, true, attrs, digest, true));
                Path sigFile = Files.write(dir.resolve("pss.der"), sig);
                openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile.toString(), "-content", content.toString(),
                        "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");
                String print = openssl.runOk("cms", "-cmsout", "-print", "-inform", "DER", "-in", sigFile.toString()).stdout();
                assertThat(print).contains("rsassaPss").contains(digest.equals("SHA-256") ? "sha256" : "sha384").contains("mgf1");
                assertThat(CmsVerifier.verify(sig, Files.readAllBytes(content), List.of(TestPki.get().ca().cert()), List.of(),
                        java.time.Instant.now()).signer()).isEqualTo(CmsSignerTest.rsa().certificate());
            }
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CmsSigner.sign(new byte[1], CmsSignerTest.ec(),
                new CmsOptions(true, true, true, "SHA-256", true))).hasMessageContaining("RSA-PSS needs an RSA key");
    }

    @Test
    void rootHashSignatureHasTheKernelsStructure() throws Exception {
        String root = "e88d6d926f3a9320a88a89bb32a0b227975dd24a9cb22145b5572b26e8da039d";
        Path sig = dir.resolve("root.p7s");
        Files.write(sig, RootHashSignature.sign(root, CmsSignerTest.rsa(), true));
        Path rh = dir.resolve("rh.txt");
        Files.writeString(rh, root); // no newline
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", sig.toString(), "-content", rh.toString(),
                "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");
        Files.writeString(rh, root + "\n");
        assertThat(openssl.run(Duration.ofMinutes(1), "cms", "-verify", "-binary", "-inform", "DER", "-in", sig.toString(),
                "-content", rh.toString(), "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null").exitCode()).isNotZero();
        String print = openssl.runOk("cms", "-cmsout", "-print", "-inform", "DER", "-in", sig.toString()).stdout();
        assertThat(print).contains("eContentType: pkcs7-data").contains("eContent: <ABSENT>")
                .matches(p -> ABSENT_ATTRS.matcher(p).find(), "has no signed attributes");
    }

    @Test
    void readsKeysInEveryFormatOpensslWrites() throws Exception {
        TestPki.KeyAndCert rsa = TestPki.get().rsaLeaf();
        TestPki.KeyAndCert ec = TestPki.get().ecLeaf();
        Path rsaKey = rsa.writeKeyPem(dir.resolve("rsa.pem"));
        Path rsaCert = rsa.writeCertPem(dir.resolve("rsa.crt"));
        Path ecKey = ec.writeKeyPem(dir.resolve("ec.pem"));
        Path ecCert = ec.writeCertPem(dir.resolve("ec.crt"));
        Path pass = dir.resolve("pass");
        Files.writeString(pass, "correct horse\n");
        Secret secret = Secret.ofFile(pass);
        String passArg = "file:" + pass;

        Path encPk8 = dir.resolve("enc.pk8");
        openssl.runOk("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", rsaKey.toString(), "-out", encPk8.toString(), "-passout", passArg);
        assertThat(KeyLoader.fromFiles(encPk8, rsaCert, secret).certificate()).isEqualTo(rsa.cert());
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> KeyLoader.fromFiles(encPk8, rsaCert, null)))
                .isInstanceOf(SigningException.class).hasMessageContaining("encrypted");
        Path wrong = dir.resolve("wrong");
        Files.writeString(wrong, "wrong");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> KeyLoader.fromFiles(encPk8, rsaCert, Secret.ofFile(wrong))))
                .isInstanceOf(SigningException.class).hasMessageContaining("passphrase").hasMessageNotContaining("wrong\n");

        // PBES2 schemes the JDK cannot parse itself (des-ede3-cbc, as Debian's OVMF snakeoil key) and legacy PBES1
        for (List<String> scheme : List.of(List.of("-v2", "des3"), List.of("-v1", "PBE-SHA1-3DES"))) {
            Path legacy = dir.resolve("enc-" + scheme.get(1) + ".pk8");
            List<String> cmd = new ArrayList<>(List.of("pkcs8", "-topk8"));
            cmd.addAll(scheme);
            cmd.addAll(List.of("-in", rsaKey.toString(), "-out", legacy.toString(), "-passout", passArg));
            openssl.runOk(cmd.toArray(String[]::new));
            assertThat(KeyLoader.fromFiles(legacy, rsaCert, secret).certificate()).as(String.join(" ", scheme)).isEqualTo(rsa.cert());
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> KeyLoader.fromFiles(legacy, rsaCert, Secret.ofFile(wrong))))
                    .isInstanceOf(SigningException.class).hasMessageContaining("passphrase");
        }

        Path tradRsa = dir.resolve("trad-rsa.pem");
        openssl.runOk("rsa", "-in", rsaKey.toString(), "-out", tradRsa.toString(), "-traditional");
        assertThat(Files.readString(tradRsa)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(KeyLoader.fromFiles(tradRsa, rsaCert, null).certificate()).isEqualTo(rsa.cert());

        Path tradEncRsa = dir.resolve("trad-enc-rsa.pem");
        openssl.runOk("rsa", "-in", rsaKey.toString(), "-out", tradEncRsa.toString(), "-traditional", "-aes256", "-passout", passArg);
        assertThat(KeyLoader.fromFiles(tradEncRsa, rsaCert, secret).certificate()).isEqualTo(rsa.cert());

        Path tradEc = dir.resolve("trad-ec.pem");
        openssl.runOk("ec", "-in", ecKey.toString(), "-out", tradEc.toString());
        assertThat(Files.readString(tradEc)).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(KeyLoader.fromFiles(tradEc, ecCert, null).certificate()).isEqualTo(ec.cert());

        Path der = dir.resolve("key.der");
        openssl.runOk("pkcs8", "-topk8", "-nocrypt", "-in", rsaKey.toString(), "-outform", "DER", "-out", der.toString());
        Path derCert = dir.resolve("cert.der");
        openssl.runOk("x509", "-in", rsaCert.toString(), "-outform", "DER", "-out", derCert.toString());
        assertThat(KeyLoader.fromFiles(der, derCert, null).certificate()).isEqualTo(rsa.cert());

        Path p12 = dir.resolve("k.p12");
        openssl.runOk("pkcs12", "-export", "-inkey", rsaKey.toString(), "-in", rsaCert.toString(), "-out", p12.toString(),
                "-passout", passArg, "-name", "release");
        KeyMaterial fromP12 = KeyLoader.fromPkcs12(p12, secret, null);
        assertThat(fromP12.certificate()).isEqualTo(rsa.cert());
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> KeyLoader.fromPkcs12(p12, Secret.ofFile(wrong), null)))
                .isInstanceOf(SigningException.class).hasMessageContaining("passphrase");
    }

    static String pem(java.security.cert.X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }
}
