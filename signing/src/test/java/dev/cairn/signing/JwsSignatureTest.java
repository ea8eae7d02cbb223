package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** JWS algorithm choice by key (Notary Project rules) and PSS / P1363 signatures that verify and fail when tampered. */
class JwsSignatureTest {
    private static KeyPair pair(String alg, Object param) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
        if (param instanceof Integer bits) {
            g.initialize(bits);
        } else if (param != null) {
            g.initialize(new ECGenParameterSpec((String) param));
        }
        return g.generateKeyPair();
    }

    @Test
    void algorithmIsFixedByTheKey() throws Exception {
        assertThat(JwsSignature.algorithmFor(pair("RSA", 2048).getPublic())).isEqualTo("PS256");
        assertThat(JwsSignature.algorithmFor(TestPki.get().rsaLeaf().cert().getPublicKey())).isEqualTo("PS384");
        assertThat(JwsSignature.algorithmFor(TestPki.get().ecLeaf().cert().getPublicKey())).isEqualTo("ES256");
        assertThat(JwsSignature.algorithmFor(pair("EC", "secp384r1").getPublic())).isEqualTo("ES384");
        assertThatThrownBy(() -> JwsSignature.algorithmFor(pair("RSA", 1024).getPublic())).isInstanceOf(SigningException.class)
                .hasMessageContaining("RSA-1024");
        assertThatThrownBy(() -> JwsSignature.algorithmFor(pair("Ed25519", null).getPublic())).isInstanceOf(SigningException.class);
    }

    @Test
    void signaturesVerifyAndTamperingFails() throws Exception {
        byte[] input = "eyJhbGciOiJQUzM4NCJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319".getBytes(StandardCharsets.US_ASCII);
        for (TestPki.KeyAndCert k : List.of(TestPki.get().rsaLeaf(), TestPki.get().ecLeaf())) {
            KeyMaterial km = new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test");
            String alg = JwsSignature.algorithmFor(k.cert().getPublicKey());
            byte[] sig = JwsSignature.sign(input, km);
            assertThat(sig).hasSize(alg.equals("ES256") ? 64 : 384); // r‖s, not DER; RSA-3072 modulus size
            assertThat(JwsSignature.verify(alg, input, sig, k.cert().getPublicKey())).isTrue();
            byte[] other = input.clone();
            other[3] ^= 1;
            assertThat(JwsSignature.verify(alg, other, sig, k.cert().getPublicKey())).isFalse();
            assertThat(JwsSignature.verify(alg, input, new byte[] {1, 2, 3}, k.cert().getPublicKey())).isFalse();
            assertThat(JwsSignature.verify(alg, input, sig, TestPki.get().ca().cert().getPublicKey())).isFalse();
        }
        // PSS is randomized, so two signatures differ but both verify
        KeyMaterial rsa = new KeyMaterial(TestPki.get().rsaLeaf().key(), TestPki.get().rsaLeaf().cert(), List.of(), null, "test");
        assertThat(JwsSignature.sign(input, rsa)).isNotEqualTo(JwsSignature.sign(input, rsa));
    }
}
