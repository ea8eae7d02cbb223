package dev.cairn.signing.authenticode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.signing.KeyMaterial;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1Set;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * Oracle tests against sbsign/sbverify (sbsigntool), osslsigncode and openssl, on Debian 12's real
 * systemd-boot stub: sbsign's signature parses to the digest our test-only PE hasher computes, our
 * PKCS#7 has sbsign's structure (identical SpcIndirectDataContent, algorithms, signer id and
 * certificates; only signingTime/S/MIME capabilities, which we omit for determinism, and the
 * signature value differ), and sbverify and osslsigncode accept the stub signed by cairn.
 */
class AuthenticodeSbsignIT {
    static final Path STUB = Path.of("/usr/lib/systemd/boot/efi/linuxx64.efi.stub");
    static final Duration T = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    static KeyMaterial km(TestPki.KeyAndCert k) {
        return new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test key");
    }

    @Test
    void matchesSbsignAndSbverifyAcceptsCairnSignedStub() throws Exception {
        ToolOracle sbsign = ToolOracle.require("sbsign", "sbsigntool");
        ToolOracle sbverify = ToolOracle.require("sbverify", "sbsigntool");
        ToolOracle osslsigncode = ToolOracle.require("osslsigncode", "osslsigncode");
        Path stub = Files.copy(ToolOracle.requireFile(STUB, "systemd-boot-efi"), dir.resolve("stub.efi"));
        TestPki.KeyAndCert sb = TestPki.get().secureBoot();
        Path key = sb.writeKeyPem(dir.resolve("db.key"));
        Path crt = sb.writeCertPem(dir.resolve("db.crt"));

        Path theirsEfi = dir.resolve("sbsign.efi");
        sbsign.run(T, dir, List.of("--key", key.toString(), "--cert", crt.toString(), "--output", theirsEfi.toString(),
                stub.toString()), null).assertExit(0);
        byte[] theirs = new TestPeImage(Files.readAllBytes(theirsEfi)).firstSignature();
        Path extracted = dir.resolve("extracted.der");
        osslsigncode.run(T, dir, List.of("extract-signature", "-in", theirsEfi.toString(), "-out", extracted.toString()), null)
                .assertExit(0);
        assertThat(Files.readAllBytes(extracted)).as("test PE reader agrees with osslsigncode").isEqualTo(theirs);

        // sbsign's digest == our parse == the test-only hasher (so the hasher is right for what follows)
        AuthenticodeSignature parsedTheirs = AuthenticodeSignature.parse(theirs);
        TestPeImage unsigned = new TestPeImage(Files.readAllBytes(stub));
        byte[] digest = unsigned.authenticodeDigest("SHA-256");
        assertThat(parsedTheirs.digest()).isEqualTo(AuthenticodeDigest.SHA256);
        assertThat(parsedTheirs.imageDigest()).isEqualTo(digest);
        assertThat(parsedTheirs.signer().subject()).isEqualTo(sb.cert().getSubjectX500Principal());
        assertThat(parsedTheirs.certificates()).containsExactly(sb.cert());
        // our verifier accepts sbsign's signature (which carries signingTime and S/MIME capabilities)
        assertThat(AuthenticodeVerifier.verify(theirs, digest, List.of(sb.cert())).signer()).isEqualTo(sb.cert());

        byte[] ours = AuthenticodeSigner.sign(digest, km(sb));
        assertSameStructure(ours, theirs);

        // embedded in the stub, sbverify and osslsigncode accept cairn's signature
        Path oursEfi = Files.write(dir.resolve("cairn.efi"), unsigned.withSignature(ours));
        sbverify.run(T, dir, List.of("--cert", crt.toString(), oursEfi.toString()), null).assertExit(0);
        ToolOracle.Result o = osslsigncode.run(T, dir, List.of("verify", "-CAfile", crt.toString(), "-in", oursEfi.toString()), null);
        assertThat(o.stdout()).as(o.stdout() + o.stderr()).contains("Signature verification: ok");
        assertThat(o.exitCode()).as(o.stdout() + o.stderr()).isZero();

        // …and reject it for a different image digest
        byte[] wrong = digest.clone();
        wrong[0] ^= 1;
        Path wrongEfi = Files.write(dir.resolve("wrong.efi"), unsigned.withSignature(AuthenticodeSigner.sign(wrong, km(sb))));
        assertThat(sbverify.run(T, dir, List.of("--cert", crt.toString(), wrongEfi.toString()), null).exitCode()).isNotZero();
        assertThat(osslsigncode.run(T, dir, List.of("verify", "-CAfile", crt.toString(), "-in", wrongEfi.toString()), null)
                .exitCode()).isNotZero();
        // …and a signer that does not chain to the trusted certificate
        Path caCrt = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        assertThat(sbverify.run(T, dir, List.of("--cert", caCrt.toString(), oursEfi.toString()), null).exitCode()).isNotZero();
    }

    @Test
    void aChainThroughAnEmbeddedLeafVerifiesForEveryDigest() throws Exception {
        ToolOracle sbverify = ToolOracle.require("sbverify", "sbsigntool");
        ToolOracle osslsigncode = ToolOracle.require("osslsigncode", "osslsigncode");
        Path stub = ToolOracle.requireFile(STUB, "systemd-boot-efi");
        TestPeImage unsigned = new TestPeImage(Files.readAllBytes(stub));
        Path caCrt = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        for (AuthenticodeDigest d : AuthenticodeDigest.values()) {
            byte[] digest = unsigned.authenticodeDigest(d.jcaName());
            byte[] der = AuthenticodeSigner.sign(digest, d.jcaName(), km(TestPki.get().rsaLeaf()));
            Path efi = Files.write(dir.resolve("chain-" + d + ".efi"), unsigned.withSignature(der));
            if (d == AuthenticodeDigest.SHA256) { // sbverify hashes images with SHA-256 only
                sbverify.run(T, dir, List.of("--cert", caCrt.toString(), efi.toString()), null).assertExit(0);
            }
            ToolOracle.Result o = osslsigncode.run(T, dir, List.of("verify", "-CAfile", caCrt.toString(), "-in", efi.toString()), null);
            assertThat(o.exitCode()).as(d + ": " + o.stdout() + o.stderr()).isZero();
            assertThat(o.stdout()).as(d.toString()).contains("Signature verification: ok");
            assertThat(AuthenticodeVerifier.verify(der, digest, List.of(TestPki.get().ca().cert())).trustedBy())
                    .isEqualTo(TestPki.get().ca().cert());
        }
    }

    @Test
    void opensslParsesIt() throws Exception {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        TestPki.KeyAndCert leaf = TestPki.get().rsaLeaf();
        byte[] der = AuthenticodeSigner.sign(new byte[32], km(leaf));
        Path f = Files.write(dir.resolve("sig.p7"), der);
        ToolOracle.Result asn1 = openssl.runOk("asn1parse", "-inform", "DER", "-in", f.toString());
        assertThat(asn1.stdout()).contains(":pkcs7-signedData", ":1.3.6.1.4.1.311.2.1.4", ":1.3.6.1.4.1.311.2.1.15",
                ":sha256", ":contentType", ":messageDigest", ":rsaEncryption").doesNotContain("signingTime");
        assertThat(asn1.stdout().lines().findFirst().orElseThrow()).contains("0:d=0  hl=4 l=" + String.format("%4d", der.length - 4));
        ToolOracle.Result print = openssl.runOk("pkcs7", "-inform", "DER", "-in", f.toString(), "-print", "-noout");
        assertThat(print.stdout()).contains("version: 1", "1.3.6.1.4.1.311.2.1.4", "cairn test RSA signer", "cairn test CA");
        ToolOracle.Result certs = openssl.runOk("pkcs7", "-inform", "DER", "-in", f.toString(), "-print_certs", "-noout");
        assertThat(certs.stdout()).contains("subject=CN = cairn test RSA signer", "subject=CN = cairn test CA");
    }

    /** Same DER everywhere except the parts that depend on signing time and the signature value. */
    static void assertSameStructure(byte[] ours, byte[] theirs) throws Exception {
        ASN1Sequence o = signedData(ours);
        ASN1Sequence t = signedData(theirs);
        assertThat(o.size()).isEqualTo(t.size());
        for (int i = 0; i < 4; i++) { // version, digestAlgorithms, contentInfo (SpcIndirectDataContent), certificates
            assertThat(o.getObjectAt(i).toASN1Primitive().getEncoded()).as("SignedData element " + i)
                    .isEqualTo(t.getObjectAt(i).toASN1Primitive().getEncoded());
        }
        ASN1Sequence os = (ASN1Sequence) ((ASN1Set) o.getObjectAt(4)).getObjectAt(0);
        ASN1Sequence ts = (ASN1Sequence) ((ASN1Set) t.getObjectAt(4)).getObjectAt(0);
        assertThat(os.size()).isEqualTo(ts.size());
        for (int i : new int[] {0, 1, 2, 4}) { // version, issuerAndSerialNumber, digestAlgorithm, digestEncryptionAlgorithm
            assertThat(os.getObjectAt(i).toASN1Primitive().getEncoded()).as("SignerInfo element " + i)
                    .isEqualTo(ts.getObjectAt(i).toASN1Primitive().getEncoded());
        }
        AuthenticodeSignature.Parsed po = AuthenticodeSignature.Parsed.of(ours);
        AuthenticodeSignature.Parsed pt = AuthenticodeSignature.Parsed.of(theirs);
        assertThat(po.indirectDataContent()).isEqualTo(pt.indirectDataContent());
        assertThat(po.contentTypeAttribute()).isEqualTo(pt.contentTypeAttribute());
        assertThat(po.messageDigestAttribute()).isEqualTo(pt.messageDigestAttribute());
        // the only attributes sbsign has beyond ours: signingTime and S/MIME capabilities
        ASN1Set oa = ASN1Set.getInstance((ASN1TaggedObject) os.getObjectAt(3), false);
        ASN1Set ta = ASN1Set.getInstance((ASN1TaggedObject) ts.getObjectAt(3), false);
        assertThat(oa.size()).isEqualTo(2);
        List<String> extra = new java.util.ArrayList<>();
        for (ASN1Encodable a : ta) {
            String type = ((ASN1Sequence) a).getObjectAt(0).toString();
            if (!type.equals("1.2.840.113549.1.9.3") && !type.equals("1.2.840.113549.1.9.4")) {
                extra.add(type);
            }
        }
        assertThat(extra).containsExactlyInAnyOrder("1.2.840.113549.1.9.5", "1.2.840.113549.1.9.15");
    }

    static ASN1Sequence signedData(byte[] der) throws Exception {
        ASN1Sequence ci = (ASN1Sequence) ASN1Primitive.fromByteArray(der);
        return (ASN1Sequence) ((ASN1TaggedObject) ci.getObjectAt(1)).getExplicitBaseObject();
    }
}
