package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.testing.TestPki;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CmsSignerTest {
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    static final byte[] CONTENT = "policy_name=test policy_version=0.0.1\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    static KeyMaterial rsa() {
        TestPki.KeyAndCert k = TestPki.get().rsaLeaf();
        return new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test RSA key");
    }

    static KeyMaterial ec() {
        TestPki.KeyAndCert k = TestPki.get().ecLeaf();
        return new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test EC key");
    }

    @Test
    void roundTripsEveryOptionCombination() throws Exception {
        List<java.security.cert.X509Certificate> ca = List.of(TestPki.get().ca().cert());
        for (KeyMaterial km : List.of(rsa(), ec())) {
            for (boolean detached : new boolean[] {true, false}) {
                for (boolean certs : new boolean[] {true, false}) {
                    for (boolean attrs : new boolean[] {true, false}) {
                        byte[] sig = CmsSigner.sign(CONTENT, km, new CmsOptions(detached, certs, attrs, "SHA-256"));
                        List<java.security.cert.X509Certificate> extra = certs ? List.of() : List.of(km.certificate());
                        CmsVerifier.Verified v = CmsVerifier.verify(sig, detached ? CONTENT : null, ca, extra, NOW);
                        assertThat(v.content()).isEqualTo(CONTENT);
                        assertThat(v.signer()).isEqualTo(km.certificate());
                        byte[] tampered = CONTENT.clone();
                        tampered[0] ^= 1;
                        if (detached) {
                            assertThatThrownBy(() -> CmsVerifier.verify(sig, tampered, ca, extra, NOW))
                                    .isInstanceOf(SigningException.class);
                        }
                    }
                }
            }
        }
    }

    /** The kernel's PKCS#7 parser takes only rsaEncryption for RSA PKCS#1 v1.5 (as openssl writes it); EC and PSS keep their OIDs. */
    @Test
    void signerInfoNamesTheSignatureAlgorithmAsOpensslAndTheKernelDo() throws Exception {
        for (boolean attrs : new boolean[] {true, false}) {
            assertThat(signatureAlgorithm(CmsSigner.sign(CONTENT, rsa(), new CmsOptions(true, false, attrs, "SHA-256"))))
                    .isEqualTo("1.2.840.113549.1.1.1"); // rsaEncryption
            assertThat(signatureAlgorithm(CmsSigner.sign(CONTENT, rsa(), new CmsOptions(true, false, attrs, "SHA-512"))))
                    .isEqualTo("1.2.840.113549.1.1.1");
        }
        assertThat(signatureAlgorithm(CmsSigner.sign(CONTENT, ec(), new CmsOptions(true, false, false, "SHA-256"))))
                .isEqualTo("1.2.840.10045.4.3.2"); // ecdsa-with-SHA256
        assertThat(signatureAlgorithm(CmsSigner.sign(CONTENT, rsa(), new CmsOptions(true, false, false, "SHA-256", true))))
                .isEqualTo("1.2.840.113549.1.1.10"); // id-RSASSA-PSS
        assertThat(signatureAlgorithm(RootHashSignature.sign("ab", rsa(), false))).isEqualTo("1.2.840.113549.1.1.1");
    }

    static String signatureAlgorithm(byte[] cms) throws Exception {
        org.bouncycastle.cms.CMSSignedData sd = new org.bouncycastle.cms.CMSSignedData(cms);
        return sd.getSignerInfos().getSigners().iterator().next().getEncryptionAlgOID();
    }

    @Test
    void rsaSignaturesAreDeterministic() throws Exception {
        CmsOptions o = new CmsOptions(false, true, true, "SHA-256");
        assertThat(CmsSigner.sign(CONTENT, rsa(), o)).isEqualTo(CmsSigner.sign(CONTENT, rsa(), o));
    }

    @Test
    void untrustedSignerIsRejected() throws Exception {
        byte[] sig = CmsSigner.sign(CONTENT, rsa(), new CmsOptions(false, true, false, "SHA-256"));
        assertThatThrownBy(() -> CmsVerifier.verify(sig, null, List.of(TestPki.get().secureBoot().cert()), List.of(), NOW))
                .isInstanceOf(SigningException.class).hasMessageContaining("not trusted");
        // the signer's own certificate as trust anchor is accepted
        assertThat(CmsVerifier.verify(sig, null, List.of(rsa().certificate()), List.of(), NOW).signer())
                .isEqualTo(rsa().certificate());
    }

    @Test
    void keyFilesAndMismatch() throws Exception {
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("c.pem"));
        Path otherCert = TestPki.get().ecLeaf().writeCertPem(dir.resolve("o.pem"));
        assertThat(KeyLoader.fromFiles(key, cert, null).certificate()).isEqualTo(TestPki.get().rsaLeaf().cert());
        assertThatThrownBy(() -> KeyLoader.fromFiles(key, otherCert, null)).isInstanceOf(SigningException.class)
                .hasMessageContaining("does not");
        Files.writeString(dir.resolve("junk.pem"), "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n");
        assertThatThrownBy(() -> KeyLoader.loadPrivateKey(dir.resolve("junk.pem"), null)).isInstanceOf(SigningException.class);
        assertThatThrownBy(() -> KeyLoader.loadCertificates(key)).isInstanceOf(SigningException.class);
    }

    @Test
    void secretsNeverShowTheirValue() throws Exception {
        Secret s = Secret.ofEnvironment("PIN", Map.of("PIN", "1234"));
        assertThat(s.chars()).containsExactly('1', '2', '3', '4');
        assertThat(s.toString()).doesNotContain("1234");
        assertThat(Secret.ofStream(new ByteArrayInputStream("hunter2\nrest".getBytes(StandardCharsets.UTF_8))).chars())
                .containsExactly("hunter2".toCharArray());
        Path f = dir.resolve("pass");
        Files.writeString(f, "pa ss\n");
        assertThat(new String(Secret.ofFile(f).chars())).isEqualTo("pa ss");
        assertThatThrownBy(() -> Secret.ofEnvironment("NOPE", Map.of())).hasMessageContaining("NOPE");
    }

    @Test
    void aPassphraseReadsTheSameFromStandardInputAsFromAFile() throws Exception {
        String pass = "Grüße-ключ-密码\u00e9";
        Path f = dir.resolve("pass");
        Files.writeString(f, pass + "\n", StandardCharsets.UTF_8);
        assertThat(new String(Secret.ofFile(f).chars())).isEqualTo(pass);
        assertThat(new String(Secret.ofStream(new ByteArrayInputStream((pass + "\r\nnext").getBytes(StandardCharsets.UTF_8))).chars()))
                .isEqualTo(pass);
        byte[] endless = new byte[Secret.MAX_LINE_BYTES + 1];
        Arrays.fill(endless, (byte) 'x');
        assertThatThrownBy(() -> Secret.ofStream(new ByteArrayInputStream(endless))).hasMessageContaining("longer than")
                .hasMessageNotContaining("xxxx");
    }

    @Test
    void rootHashSignatureSignsLowerCaseHexWithoutNewline() throws Exception {
        String root = "E88D6D926F3A9320A88A89BB32A0B227975DD24A9CB22145B5572B26E8DA039D";
        byte[] sig = RootHashSignature.sign(root, rsa(), true);
        byte[] expectedContent = root.toLowerCase().getBytes(StandardCharsets.US_ASCII);
        assertThat(CmsVerifier.verify(sig, expectedContent, List.of(TestPki.get().ca().cert()), List.of(), NOW).signer())
                .isEqualTo(rsa().certificate());
        String json = RootHashSignature.systemdJson(root, sig, rsa());
        assertThat(json).startsWith("{\"rootHash\":\"e88d6d92").contains("\"certificateFingerprint\":\"").endsWith("\"}");
        assertThatThrownBy(() -> RootHashSignature.signedBytes("xyz")).isInstanceOf(IllegalArgumentException.class);
    }
}
