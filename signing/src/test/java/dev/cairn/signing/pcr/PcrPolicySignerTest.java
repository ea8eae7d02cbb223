package dev.cairn.signing.pcr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import dev.cairn.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PcrPolicySignerTest {
    static final HexFormat HEX = HexFormat.of();

    /**
     * PCR 11 values of systemd-measure 252 {@code calculate --linux=linux --osrel=osrel --cmdline=cmdline}
     * (files "fake-kernel-bytes", "ID=debian\n", "quiet"; reference §3.2) and the {@code pol} values
     * {@code systemd-measure sign} got for them from a TPM (swtpm 0.7.1), recorded 2026-11-25.
     */
    static final String[][] VECTORS = {
            {"sha1", ":", "9d25d951f97a6b406b8d4afd96cb1f9b1b81167e",
                    "0c8ab99742bdedcfdbb67b12cc8afe132ec4cf4617815c7906a0b404f9a2da7d"},
            {"sha256", ":", "d43d411c8ab52e8772afd1cb19d00e2294780db55478f4d09edb957b4a65ea7d",
                    "a260a1ece9ed65f5a6f65f3eb33708bc997977b45253d126e842902e55869a76"},
            {"sha256", "enter-initrd", "e4e34d8c323cfc20671ccdf46fdd555d7957d8c572111db45083a021722e3873",
                    "894028819134a23ba7e4ed1761e058fc1214e8f538826c57f146e18b4f2b0f97"},
            {"sha384", ":", "03e61a59ee816406b4b1898789441da4893ccf8f444e452a4c0c012fa693fd309dfc45eb606d2d0ab493d35278a47d65",
                    "ab0b38299f027ed13780fe4fc1c78c96815cacd19786ed09443f5965bbd0e5e9"},
            {"sha512", ":", "4f7b8317022e005c3e17cb08cefdbf086a2a5f19ae025ac9668f0a580e3e62614eee48962bf93ecd2faa4b8cf27d2e3"
                    + "69f8306dea43c523d2aebd4dbb6fa8757",
                    "54d64c6d9e217ff77aa507c8e7d8232c431643fa6e076950075d79160d410e22"},
    };

    @TempDir
    Path dir;

    static PcrSigningKey key() throws SigningException {
        TestPki.KeyAndCert k = TestPki.get().secureBoot();
        return PcrSigningKey.of(k.key(), k.cert().getPublicKey(), "test PCR key");
    }

    static List<PcrValue> values() {
        return java.util.Arrays.stream(VECTORS)
                .map(v -> new PcrValue(PcrBank.of(v[0]), v[1], HEX.parseHex(v[2]))).toList();
    }

    @Test
    void selectionEncodesPcr11() {
        assertThat(HEX.formatHex(TpmlPcrSelection.of(PcrBank.SHA256, 11).encode())).isEqualTo("00000001000b03000800");
        assertThat(HEX.formatHex(TpmlPcrSelection.of(PcrBank.SHA1, 11).encode())).isEqualTo("00000001000403000800");
        assertThat(HEX.formatHex(TpmlPcrSelection.of(PcrBank.SHA512, 0).encode())).isEqualTo("00000001000d03010000");
        assertThat(TpmlPcrSelection.of(PcrBank.SHA384, 23).encode()).hasSize(TpmlPcrSelection.SIZE);
        assertThatThrownBy(() -> TpmlPcrSelection.of(PcrBank.SHA256, 24)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void policyDigestsMatchTheTpmComputedVectors() {
        for (String[] v : VECTORS) {
            PcrValue value = new PcrValue(PcrBank.of(v[0]), v[1], HEX.parseHex(v[2]));
            assertThat(HEX.formatHex(PcrPolicy.policyPcrDigest(value))).as(v[0] + " " + v[1]).isEqualTo(v[3]);
        }
    }

    @Test
    void fingerprintIsSha256OfThePkcs1PublicKey() throws Exception {
        PcrSigningKey k = key();
        byte[] pkcs1 = SubjectPublicKeyInfo.getInstance(k.publicKey().getEncoded()).getPublicKeyData().getBytes();
        assertThat(k.rsaPublicKeyDer()).isEqualTo(pkcs1);
        assertThat(k.fingerprint()).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(pkcs1));
        assertThat(k.fingerprintHex()).isEqualTo(HEX.formatHex(k.fingerprint()));
    }

    @Test
    void signsIntoSystemdJson() throws Exception {
        PcrSigningKey k = key();
        PcrSignatures s = PcrPolicySigner.sign(values(), k);
        assertThat(s.banks()).extracting(PcrSignatures.Bank::bank)
                .containsExactly(PcrBank.SHA1, PcrBank.SHA256, PcrBank.SHA384, PcrBank.SHA512);
        assertThat(s.entries(PcrBank.SHA256)).hasSize(2);
        String json = s.toJson();
        String fp = k.fingerprintHex();
        PcrPolicySignature first = s.entries(PcrBank.SHA1).get(0);
        assertThat(json).startsWith("{\"sha1\":[{\"pcrs\":[11],\"pkfp\":\"" + fp + "\",\"pol\":\"" + VECTORS[0][3]
                + "\",\"sig\":\"" + Base64.getEncoder().encodeToString(first.signature()) + "\"}],\"sha256\":[{\"pcrs\":[11],");
        assertThat(json).doesNotContain(" ", "\n").endsWith("\"}]}");
        for (PcrSignatures.Bank b : s.banks()) {
            for (PcrPolicySignature e : b.entries()) {
                Signature v = Signature.getInstance("SHA256withRSA");
                v.initVerify(k.publicKey());
                v.update(e.policy());
                assertThat(v.verify(e.signature())).as(b.bank() + " signed with SHA-256 over pol").isTrue();
                assertThat(e.pcrs()).containsExactly(11);
            }
        }
        assertThat(s.verifiesWith(k.publicKey())).isTrue();
        PcrSignatures back = PcrSignatures.parse(json);
        assertThat(back).isEqualTo(s);
        assertThat(PcrSignatures.parse(json + "\0")).isEqualTo(s);
        // deterministic: RSA PKCS#1 v1.5, no clock
        assertThat(PcrPolicySigner.sign(values(), k).toJson()).isEqualTo(json);
    }

    @Test
    void aTamperedOrForeignSignatureDoesNotVerify() throws Exception {
        PcrSigningKey k = key();
        PcrSignatures s = PcrPolicySigner.sign(values(), k);
        PcrSigningKey other = PcrSigningKey.of(TestPki.get().rsaLeaf().key(), TestPki.get().rsaLeaf().cert().getPublicKey(), "other");
        assertThat(s.verifiesWith(other.publicKey())).isFalse();
        String json = s.toJson();
        String pol = VECTORS[1][3];
        String tampered = json.replace(pol, pol.substring(0, 63) + (pol.endsWith("6") ? "7" : "6"));
        assertThat(PcrSignatures.parse(tampered).verifiesWith(k.publicKey())).isFalse();
    }

    @Test
    void pcrpkeyIsPemSubjectPublicKeyInfo() throws Exception {
        PcrSigningKey k = key();
        String pem = k.pcrpkeyPem();
        assertThat(pem).startsWith("-----BEGIN PUBLIC KEY-----\n").endsWith("\n-----END PUBLIC KEY-----\n");
        for (String line : pem.split("\n")) {
            assertThat(line.length()).isLessThanOrEqualTo(64);
        }
        Path f = Files.writeString(dir.resolve("pcrpkey.pem"), pem);
        assertThat(dev.cairn.signing.KeyLoader.loadPublicKey(f)).isEqualTo(k.publicKey());
    }

    @Test
    void loadsABareKeyPairFromPem() throws Exception {
        TestPki.KeyAndCert sb = TestPki.get().secureBoot();
        Path priv = sb.writeKeyPem(dir.resolve("priv.pem"));
        Path pub = Files.writeString(dir.resolve("pub.pem"), key().pcrpkeyPem());
        PcrSigningKey both = PcrSigningKey.fromPem(priv, pub, null);
        PcrSigningKey derived = PcrSigningKey.fromPem(priv, null, null);
        assertThat(derived.publicKey()).isEqualTo(both.publicKey());
        assertThat(PcrPolicySigner.sign(values(), derived).toJson()).isEqualTo(PcrPolicySigner.sign(values(), both).toJson());

        Path otherPub = Files.writeString(dir.resolve("other.pem"),
                PcrSigningKey.of(TestPki.get().rsaLeaf().key(), TestPki.get().rsaLeaf().cert().getPublicKey(), "o").pcrpkeyPem());
        assertThatThrownBy(() -> PcrSigningKey.fromPem(priv, otherPub, null))
                .isInstanceOf(SigningException.class).hasMessageContaining("does not belong");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a key");
        assertThatThrownBy(() -> PcrSigningKey.fromPem(priv, garbage, null)).isInstanceOf(SigningException.class);
    }

    @Test
    void refusesEcKeys() throws Exception {
        TestPki.KeyAndCert ec = TestPki.get().ecLeaf();
        assertThatThrownBy(() -> PcrSigningKey.of(new KeyMaterial(ec.key(), ec.cert(), ec.chain(), null, "ec")))
                .isInstanceOf(SigningException.class).hasMessageContaining("RSA");
        Path priv = ec.writeKeyPem(dir.resolve("ec.pem"));
        assertThatThrownBy(() -> PcrSigningKey.fromPem(priv, null, null))
                .isInstanceOf(SigningException.class).hasMessageContaining("RSA");
    }

    @Test
    void rejectsMalformedJson() {
        for (String bad : List.of("", "[]", "{\"md5\":[]}", "{\"sha256\":{}}", "{\"sha256\":[1]}",
                "{\"sha256\":[{\"pcrs\":[99],\"pkfp\":\"00\",\"pol\":\"00\",\"sig\":\"AA==\"}]}",
                "{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\"zz\",\"pol\":\"00\",\"sig\":\"AA==\"}]}",
                "{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\"00\",\"pol\":\"00\",\"sig\":\"!!\"}]}",
                "{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\"00\",\"pol\":\"00\"}]}",
                "[".repeat(100_000), "{\"sha256\":[{\"pcrs\":[11]")) {
            assertThatThrownBy(() -> PcrSignatures.parse(bad)).as(bad.length() > 40 ? bad.substring(0, 40) : bad)
                    .isInstanceOf(FormatException.class);
        }
    }

    @Test
    void rejectsMisuse() {
        assertThatThrownBy(() -> new PcrValue(PcrBank.SHA256, ":", new byte[20])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PcrPolicySigner.sign(List.of(), key())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PcrBank.of("md5")).isInstanceOf(IllegalArgumentException.class);
    }
}
