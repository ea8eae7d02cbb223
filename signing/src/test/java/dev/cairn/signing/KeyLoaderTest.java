package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Private keys from PEM: the unencrypted PKCS#8 shortcut and the PEM parser agree. */
class KeyLoaderTest {
    @TempDir
    Path dir;

    @Test
    void pkcs8PemIsReadWithoutThePemParserAndGivesTheSameKey() throws Exception {
        for (PrivateKey key : new PrivateKey[] {TestPki.get().rsaLeaf().key(), TestPki.get().ecLeaf().key()}) {
            String pem = Pem.encode("PRIVATE KEY", key.getEncoded());
            assertThat(KeyLoader.firstUnencryptedPkcs8(pem)).isEqualTo(key.getEncoded());
            Path f = dir.resolve("k-" + key.getAlgorithm() + ".pem");
            Files.writeString(f, "comment line\n" + pem.replace("\n", "\r\n"));
            assertThat(KeyLoader.loadPrivateKey(f, null).getEncoded()).isEqualTo(key.getEncoded());
            Path der = Files.write(dir.resolve("k-" + key.getAlgorithm() + ".der"), key.getEncoded());
            assertThat(KeyLoader.loadPrivateKey(der, null).getEncoded()).isEqualTo(key.getEncoded());
        }
        // neither RSA nor EC: the JDK's RSA and EC factories refuse it and Bouncy Castle's converter reads it
        PrivateKey ed = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate();
        Path e = Files.writeString(dir.resolve("ed.pem"), Pem.encode("PRIVATE KEY", ed.getEncoded()));
        PrivateKey read = KeyLoader.loadPrivateKey(e, null);
        assertThat(read.getAlgorithm()).isIn("Ed25519", "EdDSA");
        assertThat(read.getEncoded()).isEqualTo(ed.getEncoded());
    }

    @Test
    void otherFirstBlocksGoToThePemParser() throws Exception {
        PrivateKey key = TestPki.get().rsaLeaf().key();
        // a certificate first, then the key: the parser skips the certificate, as before
        String both = Pem.encode("CERTIFICATE", TestPki.get().rsaLeaf().cert().getEncoded()) + Pem.encode("PRIVATE KEY", key.getEncoded());
        assertThat(KeyLoader.firstUnencryptedPkcs8(both)).isNull();
        Path f = dir.resolve("both.pem");
        Files.writeString(f, both);
        assertThat(KeyLoader.loadPrivateKey(f, null).getEncoded()).isEqualTo(key.getEncoded());
        // a traditional (PKCS#1) RSA key
        byte[] pkcs1 = PrivateKeyInfo.getInstance(key.getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded();
        String traditional = Pem.encode("RSA PRIVATE KEY", pkcs1);
        assertThat(KeyLoader.firstUnencryptedPkcs8(traditional)).isNull();
        Path t = dir.resolve("rsa.pem");
        Files.writeString(t, traditional);
        assertThat(KeyLoader.loadPrivateKey(t, null).getEncoded()).isEqualTo(key.getEncoded());
    }

    @Test
    void aBrokenPkcs8BodyIsAClearError() throws Exception {
        Path f = dir.resolve("bad.pem");
        Files.writeString(f, "-----BEGIN PRIVATE KEY-----\nnot*base64!\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> KeyLoader.loadPrivateKey(f, null)).isInstanceOf(SigningException.class)
                .hasMessageContaining("not a readable private key");
        Path g = dir.resolve("garbage.pem");
        Files.writeString(g, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> KeyLoader.loadPrivateKey(g, null)).isInstanceOf(SigningException.class);
        Path h = dir.resolve("unterminated.pem");
        Files.writeString(h, "-----BEGIN PRIVATE KEY-----\nAAAA\n");
        assertThatThrownBy(() -> KeyLoader.loadPrivateKey(h, null)).isInstanceOf(SigningException.class);
    }

    @Test
    void aKeyAndACertificateThatDoNotBelongTogetherAreRefused() throws Exception {
        TestPki pki = TestPki.get();
        KeyLoader.requireMatch(new KeyMaterial(pki.secureBoot().key(), pki.secureBoot().cert(), java.util.List.of(), null, "sb"));
        KeyLoader.requireMatch(new KeyMaterial(pki.ecLeaf().key(), pki.ecLeaf().cert(), java.util.List.of(), null, "ec"));
        // RSA (compared by modulus), EC (trial signature), and RSA key with an EC certificate
        assertThatThrownBy(() -> KeyLoader.requireMatch(new KeyMaterial(pki.secureBoot().key(), pki.rsaLeaf().cert(),
                java.util.List.of(), null, "sb"))).isInstanceOf(SigningException.class).hasMessageContaining("does not belong");
        assertThatThrownBy(() -> KeyLoader.requireMatch(new KeyMaterial(pki.ecLeaf().key(), pki.ca().cert(),
                java.util.List.of(), null, "ec"))).isInstanceOf(SigningException.class);
        assertThatThrownBy(() -> KeyLoader.requireMatch(new KeyMaterial(pki.secureBoot().key(), pki.ecLeaf().cert(),
                java.util.List.of(), null, "sb"))).isInstanceOf(SigningException.class);
    }
}
