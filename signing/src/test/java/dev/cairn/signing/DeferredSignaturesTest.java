package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.signing.authenticode.AuthenticodeSigner;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.pcr.PcrPolicySigner;
import dev.cairn.signing.pcr.PcrSigningKey;
import dev.cairn.signing.pcr.PcrValue;
import dev.cairn.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.RSAPublicKey;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A signature asked of a deferred key is recorded (the exact bytes to sign) and answered with a
 * placeholder; once the station's answer is provided, the same call writes the very bytes the key
 * itself would have written (RSA PKCS#1 v1.5 is deterministic).
 */
class DeferredSignaturesTest {
    private static final TestPki.KeyAndCert RSA = TestPki.get().rsaLeaf();

    private static KeyMaterial real() {
        return new KeyMaterial(RSA.key(), RSA.cert(), RSA.chain(), null, "test rsa");
    }

    /** What a station does: sign the recorded bytes with the real key. */
    private static byte[] station(DeferredSignatures.Pending p) throws Exception {
        java.security.Signature s = java.security.Signature.getInstance(p.algorithm());
        s.initSign(RSA.key());
        s.update(p.data());
        return s.sign();
    }

    @Test
    void cmsThroughADeferredKeyIsTheRealKeysOnceAnswered() throws Exception {
        byte[] content = "3f1e".repeat(16).getBytes(StandardCharsets.US_ASCII);
        CmsOptions opts = new CmsOptions(true, true, true, "SHA-256");
        DeferredSignatures d = new DeferredSignatures();
        KeyMaterial km = d.key("verity", RSA.cert(), RSA.chain());
        assertThat(DeferredSignatures.isDeferred(km)).isTrue();
        assertThat(DeferredSignatures.isDeferred(real())).isFalse();
        d.label("roothash");
        byte[] placeholder = CmsSigner.sign(content, km, opts);
        assertThat(d.pending()).hasSize(1);
        DeferredSignatures.Pending p = d.pending().get(0);
        assertThat(p.role()).isEqualTo("verity");
        assertThat(p.label()).isEqualTo("roothash");
        assertThat(p.algorithm()).isEqualTo("SHA256withRSA");
        assertThat(p.data().length).as("signed attributes, not the content").isLessThan(200);
        byte[] expected = CmsSigner.sign(content, real(), opts);
        assertThat(placeholder).isNotEqualTo(expected);

        DeferredSignatures again = new DeferredSignatures();
        again.provide(RSA.cert(), p.algorithm(), p.data(), station(p));
        assertThat(CmsSigner.sign(content, again.key("verity", RSA.cert(), RSA.chain()), opts)).isEqualTo(expected);
        assertThat(again.pending()).isEmpty();
    }

    @Test
    void authenticodeAndPcrPolicyToo() throws Exception {
        byte[] imageDigest = new byte[32];
        imageDigest[0] = 7;
        DeferredSignatures d = new DeferredSignatures();
        KeyMaterial km = d.key("secureboot", RSA.cert(), RSA.chain());
        AuthenticodeSigner.sign(imageDigest, km);
        List<PcrValue> values = List.of(new PcrValue(PcrBank.of("sha256"), "enter-initrd", new byte[32]));
        PcrSigningKey pk = new PcrSigningKey(km.key(), (RSAPublicKey) RSA.cert().getPublicKey(), km.provider(), "deferred");
        PcrPolicySigner.sign(values, pk);
        assertThat(d.pending()).hasSize(2);
        assertThat(d.pending().get(1).data()).as("the 32-byte TPM2_PolicyPCR digest").hasSize(32);

        DeferredSignatures answered = new DeferredSignatures();
        for (DeferredSignatures.Pending p : d.pending()) {
            answered.provide(RSA.cert(), p.algorithm(), p.data(), station(p));
        }
        KeyMaterial km2 = answered.key("secureboot", RSA.cert(), RSA.chain());
        assertThat(AuthenticodeSigner.sign(imageDigest, km2)).isEqualTo(AuthenticodeSigner.sign(imageDigest, real()));
        PcrSigningKey pk2 = new PcrSigningKey(km2.key(), (RSAPublicKey) RSA.cert().getPublicKey(), km2.provider(), "deferred");
        assertThat(PcrPolicySigner.sign(values, pk2).toJson()).isEqualTo(PcrPolicySigner.sign(values, PcrSigningKey.of(real())).toJson());
        assertThat(answered.pending()).isEmpty();
    }

    @Test
    void anAnswerThatDoesNotVerifyIsRefused() throws Exception {
        DeferredSignatures d = new DeferredSignatures();
        byte[] data = "payload".getBytes(StandardCharsets.US_ASCII);
        RawSignature.sign(data, d.key("oci", RSA.cert(), RSA.chain()));
        DeferredSignatures.Pending p = d.pending().get(0);
        byte[] sig = station(p);
        sig[10] ^= 1;
        assertThatThrownBy(() -> d.provide(RSA.cert(), p.algorithm(), p.data(), sig)).isInstanceOf(SigningException.class)
                .hasMessageContaining("does not verify");
        // over other bytes
        byte[] good = station(p);
        assertThatThrownBy(() -> d.provide(RSA.cert(), p.algorithm(), "other".getBytes(StandardCharsets.US_ASCII), good))
                .isInstanceOf(SigningException.class);
        // by another key's certificate
        assertThatThrownBy(() -> d.provide(TestPki.get().ca().cert(), p.algorithm(), p.data(), good)).isInstanceOf(SigningException.class);
        assertThatThrownBy(() -> d.provide(RSA.cert(), "MD5withRSA", p.data(), good)).isInstanceOf(SigningException.class)
                .hasMessageContaining("unsupported");
    }

    @Test
    void ecdsaAnswersMakeAVerifyingCms() throws Exception {
        TestPki.KeyAndCert ec = TestPki.get().ecLeaf();
        byte[] manifest = "{\"schemaVersion\":1}".getBytes(StandardCharsets.US_ASCII);
        CmsOptions opts = new CmsOptions(true, true, false, "SHA-256");
        DeferredSignatures d = new DeferredSignatures();
        CmsSigner.sign(manifest, d.key("manifest", ec.cert(), ec.chain()), opts);
        DeferredSignatures.Pending p = d.pending().get(0);
        assertThat(p.algorithm()).isEqualTo("SHA256withECDSA");
        assertThat(p.data()).as("no signed attributes: the content itself").isEqualTo(manifest);
        java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
        s.initSign(ec.key());
        s.update(p.data());
        DeferredSignatures answered = new DeferredSignatures();
        answered.provide(ec.cert(), p.algorithm(), p.data(), s.sign());
        byte[] cms = CmsSigner.sign(manifest, answered.key("manifest", ec.cert(), ec.chain()), opts);
        assertThat(CmsVerifier.verify(cms, manifest, List.of(ec.chain().get(ec.chain().size() - 1)), List.of(), java.time.Instant.now())
                .signer()).isEqualTo(ec.cert());
    }
}
