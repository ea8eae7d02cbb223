package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The signing request and signature set formats (docs/build-release.md): round trips, and every malformed or edited field refused. */
class SigningRequestTest {
    private static final TestPki.KeyAndCert RSA = TestPki.get().rsaLeaf();

    static SigningRequest request() {
        return new SigningRequest("img", "1.0", 1, true, "ab".repeat(32), List.of(
                new SigningRequest.Entry("roothash", "secureboot", "cms", "root-hash PKCS#7", "rootfs.roothash.p7s", "SHA256withRSA",
                        RSA.cert(), "00ff".repeat(16).getBytes(StandardCharsets.US_ASCII)),
                new SigningRequest.Entry("cosign", "manifest", "cosign", "cosign payload", "oci", "SHA256withRSA", RSA.cert(),
                        "{\"critical\":{}}".getBytes(StandardCharsets.US_ASCII))));
    }

    static ObjectNode json(byte[] b) throws Exception {
        return (ObjectNode) new ObjectMapper().readTree(b);
    }

    static byte[] bytes(ObjectNode n) throws Exception {
        return new ObjectMapper().writeValueAsBytes(n);
    }

    @Test
    void roundTripsAndIsDeterministic() throws Exception {
        byte[] b = request().encode();
        assertThat(request().encode()).isEqualTo(b);
        SigningRequest r = SigningRequest.decode(b, "req");
        assertThat(r.encode()).isEqualTo(b);
        assertThat(r.roles()).containsExactly("secureboot", "manifest");
        assertThat(r.forRole("manifest")).extracting(SigningRequest.Entry::id).containsExactly("cosign");
        assertThat(json(b).path("signatures").get(0).fieldNames()).toIterable().containsExactly("id", "role", "kind", "description",
                "artifact", "algorithm", "subject", "certificateSha256", "certificate", "dataSha256", "data");
    }

    @Test
    void editedOrMalformedRequestsAreRefused() throws Exception {
        byte[] b = request().encode();
        ObjectNode edited = json(b);
        ((ObjectNode) edited.path("signatures").get(0)).put("data", "AAAA");
        assertThatThrownBy(() -> SigningRequest.decode(bytes(edited), "req")).isInstanceOf(PipelineException.class)
                .hasMessageContaining("roothash").hasMessageContaining("dataSha256 is not the SHA-256 of its data");
        ObjectNode kind = json(b);
        ((ObjectNode) kind.path("signatures").get(1)).put("kind", "pgp");
        assertThatThrownBy(() -> SigningRequest.decode(bytes(kind), "req")).hasMessageContaining("unknown kind 'pgp'");
        ObjectNode cert = json(b);
        ((ObjectNode) cert.path("signatures").get(0)).put("certificateSha256", "00".repeat(32));
        assertThatThrownBy(() -> SigningRequest.decode(bytes(cert), "req")).hasMessageContaining("certificateSha256");
        ObjectNode dup = json(b);
        ((ObjectNode) dup.path("signatures").get(1)).put("id", "roothash");
        assertThatThrownBy(() -> SigningRequest.decode(bytes(dup), "req")).hasMessageContaining("appears twice");
        ObjectNode alg = json(b);
        ((ObjectNode) alg.path("signatures").get(1)).put("algorithm", "MD5withRSA");
        assertThatThrownBy(() -> SigningRequest.decode(bytes(alg), "req")).hasMessageContaining("unknown algorithm");
        ObjectNode media = json(b);
        media.put("mediaType", "application/json");
        assertThatThrownBy(() -> SigningRequest.decode(bytes(media), "req")).hasMessageContaining("not a cairn signing request");
        assertThatThrownBy(() -> SigningRequest.decode(Arrays.copyOf(b, b.length - 20), "req")).isInstanceOf(PipelineException.class)
                .hasMessageContaining("not JSON");
        assertThatThrownBy(() -> SigningRequest.decode(new byte[SigningRequest.MAX_BYTES + 1], "req")).hasMessageContaining("kilobytes");
        for (Throwable t : List.of(catchKind(bytes(edited)), catchKind(bytes(kind)))) {
            assertThat(((PipelineException) t).kind()).isEqualTo(PipelineException.Kind.BAD_INPUT);
        }
    }

    private static Throwable catchKind(byte[] b) {
        try {
            SigningRequest.decode(b, "req");
            throw new AssertionError("accepted");
        } catch (PipelineException e) {
            return e;
        }
    }

    @Test
    void stationSignsOnlyWithTheExpectedCertificate() throws Exception {
        SigningRequest r = request();
        KeyMaterial km = new KeyMaterial(RSA.key(), RSA.cert(), RSA.chain(), null, "test");
        SignatureSet s = SigningStation.sign(r, "cd".repeat(32), "secureboot", km);
        assertThat(s.signatures()).extracting(SignatureSet.Signed::id).containsExactly("roothash");
        assertThat(SignatureSet.decode(s.encode(), "sigs").encode()).isEqualTo(s.encode());
        assertThat(dev.cairn.signing.DeferredSignatures.verify(RSA.cert().getPublicKey(), "SHA256withRSA", r.entry("roothash").data(),
                s.signatures().get(0).signature())).isTrue();

        TestPki.KeyAndCert other = TestPki.get().secureBoot();
        KeyMaterial wrong = new KeyMaterial(other.key(), other.cert(), other.chain(), null, "other");
        assertThatThrownBy(() -> SigningStation.sign(r, "cd".repeat(32), "secureboot", wrong)).isInstanceOf(PipelineException.class)
                .hasMessageContaining("roothash").hasMessageContaining("expects the key of certificate")
                .matches(e -> ((PipelineException) e).kind() == PipelineException.Kind.SIGNING);
        // a key whose certificate is right but whose private half is another's
        KeyMaterial mismatched = new KeyMaterial(other.key(), RSA.cert(), List.of(RSA.cert()), null, "mismatched");
        assertThatThrownBy(() -> SigningStation.sign(r, "cd".repeat(32), "secureboot", mismatched))
                .hasMessageContaining("does not verify");
        assertThatThrownBy(() -> SigningStation.plan(r, "pcr", null)).hasMessageContaining("no signatures for role 'pcr'")
                .hasMessageContaining("secureboot, manifest");
    }

    @Test
    void truncatedSignatureSetsAreRefused() throws Exception {
        KeyMaterial km = new KeyMaterial(RSA.key(), RSA.cert(), RSA.chain(), null, "test");
        byte[] b = SigningStation.sign(request(), "cd".repeat(32), "manifest", km).encode();
        assertThatThrownBy(() -> SignatureSet.decode(Arrays.copyOf(b, b.length / 2), "sigs.json")).isInstanceOf(PipelineException.class)
                .hasMessageContaining("sigs.json").hasMessageContaining("truncated");
        ObjectNode n = json(b);
        ((ObjectNode) n.path("signatures").get(0)).put("signature", "");
        assertThatThrownBy(() -> SignatureSet.decode(bytes(n), "sigs.json")).hasMessageContaining("signature");
    }
}
