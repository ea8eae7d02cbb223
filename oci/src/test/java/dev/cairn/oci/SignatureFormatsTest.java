package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.io.FormatException;
import dev.cairn.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Structure of the notation JWS envelope and the sigstore bundle, and their referrer manifests in a layout. */
class SignatureFormatsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Digest D = Digest.of("sha256:" + "ab".repeat(32));
    static final Instant T = Instant.parse("2026-01-02T03:04:05.678Z");
    static final byte[] SIG = {1, 2, 3, 4};

    @TempDir
    Path dir;

    private static String b64url(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void notationProtectedHeaderAndPayloadHaveExactBytes() {
        assertThat(new String(NotationSignatures.protectedHeader("ES256", T), StandardCharsets.UTF_8)).isEqualTo(
                "{\"alg\":\"ES256\",\"crit\":[\"io.cncf.notary.signingScheme\"],\"cty\":\"application/vnd.cncf.notary.payload.v1+json\","
                        + "\"io.cncf.notary.signingScheme\":\"notary.x509\",\"io.cncf.notary.signingTime\":\"2026-01-02T03:04:05Z\"}");
        // the layout's tag annotation and artifactType are not part of what is signed
        Descriptor tagged = Descriptor.of(MediaTypes.MANIFEST, D, 42).withArtifactType("x/y").withAnnotation(MediaTypes.REF_NAME, "app");
        assertThat(new String(NotationSignatures.payload(tagged), StandardCharsets.UTF_8)).isEqualTo(
                "{\"targetArtifact\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + D + "\",\"size\":42}}");
        assertThatThrownBy(() -> NotationSignatures.protectedHeader("RS256", T)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void notationEnvelopeIsFlattenedJwsAndParsesBack() throws Exception {
        List<java.security.cert.X509Certificate> chain = TestPki.get().ecLeaf().chain();
        byte[][] seen = new byte[1][];
        byte[] env = NotationSignatures.envelope("ES256", Descriptor.of(MediaTypes.MANIFEST, D, 42), T, chain, "cairn", in -> {
            seen[0] = in;
            return SIG;
        });
        JsonNode n = JSON.readTree(env);
        assertThat(n.fieldNames()).toIterable().containsExactly("payload", "protected", "header", "signature");
        assertThat(new String(seen[0], StandardCharsets.US_ASCII)).isEqualTo(n.get("protected").asText() + "." + n.get("payload").asText());
        assertThat(n.get("signature").asText()).isEqualTo("AQIDBA");
        assertThat(n.at("/header/x5c/0").asText()).isEqualTo(Base64.getEncoder().encodeToString(chain.get(0).getEncoded()));
        assertThat(n.at("/header/io.cncf.notary.signingAgent").asText()).isEqualTo("cairn");

        NotationSignatures.Envelope e = NotationSignatures.parse(env);
        assertThat(e.algorithm()).isEqualTo("ES256");
        assertThat(e.signature()).isEqualTo(SIG);
        assertThat(e.signingInput()).isEqualTo(seen[0]);
        assertThat(e.chain()).isEqualTo(chain);
        assertThat(e.signingTime()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
        assertThat(e.expiry()).isNull();
        assertThat(e.target()).isEqualTo(Descriptor.of(MediaTypes.MANIFEST, D, 42));
    }

    /** An envelope with {@code header} as its protected header (signature bytes irrelevant to parsing). */
    private static byte[] craft(String header, String payload, Map<String, Object> unprotected) throws Exception {
        ObjectNode n = JSON.createObjectNode();
        n.put("payload", b64url(payload));
        n.put("protected", b64url(header));
        n.set("header", JSON.valueToTree(unprotected));
        n.put("signature", "AQIDBA");
        return JSON.writeValueAsBytes(n);
    }

    @Test
    void notationParserRefusesWhatNotationRefuses() throws Exception {
        String x5c = Base64.getEncoder().encodeToString(TestPki.get().ecLeaf().cert().getEncoded());
        Map<String, Object> h = Map.of("x5c", List.of(x5c));
        String payload = new String(NotationSignatures.payload(Descriptor.of(MediaTypes.MANIFEST, D, 42)), StandardCharsets.UTF_8);
        String good = "{\"alg\":\"ES256\",\"crit\":[\"io.cncf.notary.signingScheme\"],\"cty\":\"application/vnd.cncf.notary.payload.v1+json\","
                + "\"io.cncf.notary.signingScheme\":\"notary.x509\",\"io.cncf.notary.signingTime\":\"2026-01-02T03:04:05Z\"}";
        assertThat(NotationSignatures.parse(craft(good, payload, h)).target().digest()).isEqualTo(D);
        Map<String, String> bad = Map.of(
                good.replace("ES256", "RS256"), "protected.alg",
                good.replace("payload.v1+json", "payload.v2+json"), "protected.cty",
                good.replace("[\"io.cncf.notary.signingScheme\"]", "[\"io.cncf.notary.signingScheme\",\"x-unknown\"]"), "unknown critical",
                good.replace("}", ",\"io.cncf.notary.expiry\":\"2030-01-01T00:00:00Z\"}"), "does not list io.cncf.notary.expiry",
                good.replace("\"crit\":[\"io.cncf.notary.signingScheme\"],", ""), "protected.crit",
                good.replace("notary.x509\"", "notary.x509.signingAuthority\""), "only notary.x509",
                good.replace("2026-01-02T03:04:05Z", "yesterday"), "RFC 3339");
        for (var b : bad.entrySet()) {
            assertThatThrownBy(() -> NotationSignatures.parse(craft(b.getKey(), payload, h))).as(b.getValue())
                    .isInstanceOf(FormatException.class).hasMessageContaining(b.getValue());
        }
        assertThatThrownBy(() -> NotationSignatures.parse(craft(good, payload, Map.of()))).hasMessageContaining("header.x5c");
        assertThatThrownBy(() -> NotationSignatures.parse(craft(good, payload, Map.of("x5c", List.of(x5c), "alg", "ES256"))))
                .hasMessageContaining("both the protected and the unprotected");
        assertThatThrownBy(() -> NotationSignatures.parse(craft(good, "{\"other\":1}", h))).hasMessageContaining("targetArtifact");
        byte[] padded = new String(craft(good, payload, h), StandardCharsets.UTF_8).replace("\"AQIDBA\"", "\"AQIDBA==\"")
                .getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> NotationSignatures.parse(padded)).hasMessageContaining("must not be padded");
        assertThatThrownBy(() -> NotationSignatures.parse("{\"signatures\":[]}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("flattened JWS JSON");
    }

    @Test
    void notationReferrerInALayout() throws Exception {
        OciLayout layout = OciLayout.openOrCreate(dir.resolve("l"));
        Descriptor cfg = layout.putBlob(MediaTypes.EMPTY_JSON, MediaTypes.EMPTY);
        Descriptor image = layout.putBlob(OciJson.encode(Manifest.of("application/x.test", Descriptor.empty(), List.of(cfg), null, null)),
                MediaTypes.MANIFEST);
        layout.tag("app", image);
        List<java.security.cert.X509Certificate> chain = TestPki.get().rsaLeaf().chain();
        byte[] env = NotationSignatures.envelope("PS384", image, T, chain, null, in -> SIG);
        ArtifactStore store = ArtifactStore.of(layout);
        Descriptor sig = NotationSignatures.attach(store, image, env, chain, T);

        ManifestBlob mb = layout.readManifest(layout.resolve(sig.digest().toString()));
        assertThat(mb.manifest().artifactType()).isEqualTo(NotationSignatures.ARTIFACT_TYPE);
        assertThat(mb.manifest().config()).isEqualTo(Descriptor.empty());
        assertThat(mb.manifest().layers()).singleElement().satisfies(l -> assertThat(l.mediaType()).isEqualTo("application/jose+json"));
        assertThat(mb.manifest().subject()).isEqualTo(Descriptor.of(MediaTypes.MANIFEST, image.digest(), image.size()));
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        String thumbs = "[\"" + HexFormat.of().formatHex(sha.digest(chain.get(0).getEncoded())) + "\",\""
                + HexFormat.of().formatHex(sha.digest(chain.get(1).getEncoded())) + "\"]";
        assertThat(mb.manifest().annotations()).containsEntry(NotationSignatures.THUMBPRINTS, thumbs)
                .containsEntry(MediaTypes.CREATED, "2026-01-02T03:04:05Z");
        assertThat(layout.hasBlob(Descriptor.empty().digest())).isTrue();
        assertThat(NotationSignatures.read(store, image.digest())).singleElement().satisfies(a -> {
            assertThat(a.envelope()).isEqualTo(env);
            assertThat(a.manifest().digest()).isEqualTo(sig.digest());
        });
        // a bundle referrer is not a notation signature, and vice versa
        SigstoreBundles.attach(store, image, SigstoreBundles.bundle(chain.get(0), image.digest(), SIG), T);
        assertThat(NotationSignatures.read(store, image.digest())).hasSize(1);
        assertThat(SigstoreBundles.read(store, image.digest())).hasSize(1);
        assertThat(NotationSignatures.read(store, D)).isEmpty();
    }

    @Test
    void sigstoreBundleHasExactJsonAndParsesBack() throws Exception {
        java.security.cert.X509Certificate cert = TestPki.get().ecLeaf().cert();
        byte[] b = SigstoreBundles.bundle(cert, D, SIG);
        String der = Base64.getEncoder().encodeToString(cert.getEncoded());
        String digest = Base64.getEncoder().encodeToString(HexFormat.of().parseHex(D.hex()));
        assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
                + "\"verificationMaterial\":{\"certificate\":{\"rawBytes\":\"" + der + "\"},\"tlogEntries\":[],"
                + "\"timestampVerificationData\":{\"rfc3161Timestamps\":[]}},"
                + "\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_256\",\"digest\":\"" + digest + "\"},\"signature\":\"AQIDBA==\"}}");
        SigstoreBundles.Bundle p = SigstoreBundles.parse(b);
        assertThat(p.certificate()).isEqualTo(cert);
        assertThat(p.messageDigest()).isEqualTo(D);
        assertThat(p.signature()).isEqualTo(SIG);

        String s = new String(b, StandardCharsets.UTF_8);
        Map<String, String> bad = Map.of(
                s.replace("bundle.v0.3", "bundle.v0.2"), "mediaType",
                s.replace("SHA2_256", "SHA2_384"), "SHA2_256",
                s.replace(digest, "AQID"), "32 bytes",
                s.replace("\"messageSignature\"", "\"dsseEnvelope\":{},\"x\""), "DSSE",
                s.replace("\"certificate\":{\"rawBytes\":\"" + der + "\"},", ""), "no certificate",
                s.replace(der, "AQID"), "not an X.509 certificate");
        for (var e : bad.entrySet()) {
            assertThatThrownBy(() -> SigstoreBundles.parse(e.getKey().getBytes(StandardCharsets.UTF_8))).as(e.getValue())
                    .isInstanceOf(FormatException.class).hasMessageContaining(e.getValue());
        }
    }
}
