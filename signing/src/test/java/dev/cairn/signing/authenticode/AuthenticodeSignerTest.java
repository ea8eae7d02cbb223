package dev.cairn.signing.authenticode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import dev.cairn.signing.authenticode.AuthenticodeVerificationException.Check;
import dev.cairn.testing.TestPki;
import java.io.IOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class AuthenticodeSignerTest {
    static final HexFormat HEX = HexFormat.of();
    /** sbsign 0.9.4's SpcIndirectDataContent for Debian 12's linuxx64.efi.stub (asn1parse -strparse 59). */
    static final String SBSIGN_IDC = "30683033060a2b06010401823702010f3025030100a020a21e801c003c003c003c004f00620073006f006c00"
            + "6500740065003e003e003e3031300d06096086480165030402010500042032cab00c99673e8b50d5d7f7602b2f8fdb5138aba67d1d2e4"
            + "22fdc8464310bc1";

    static KeyMaterial leaf() {
        TestPki.KeyAndCert k = TestPki.get().rsaLeaf();
        return new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test RSA leaf");
    }

    static KeyMaterial db() {
        TestPki.KeyAndCert k = TestPki.get().secureBoot();
        return new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test db key");
    }

    static byte[] digest(String seed, int len) throws Exception {
        return Arrays.copyOf(MessageDigest.getInstance("SHA-512").digest(seed.getBytes()), len);
    }

    @Test
    void spcIndirectDataContentEncodesExactlyAsSbsign() {
        byte[] sbsignDigest = HEX.parseHex("32cab00c99673e8b50d5d7f7602b2f8fdb5138aba67d1d2e422fdc8464310bc1");
        SpcIndirectDataContent idc = new SpcIndirectDataContent(AuthenticodeDigest.SHA256, sbsignDigest);
        assertThat(HEX.formatHex(idc.encoded())).isEqualTo(SBSIGN_IDC);
    }

    @Test
    void contentOctetsSkipTheOuterTagAndLength() {
        byte[] der = HEX.parseHex(SBSIGN_IDC);
        assertThat(AuthenticodeSigner.contentOctets(der)).isEqualTo(Arrays.copyOfRange(der, 2, der.length));
        byte[] longForm = new byte[300];
        longForm[0] = 0x30;
        longForm[1] = (byte) 0x82;
        assertThat(AuthenticodeSigner.contentOctets(longForm)).hasSize(296);
    }

    @Test
    void roundTripsForEveryDigestAndBothKeyShapes() throws Exception {
        for (KeyMaterial km : List.of(leaf(), db())) {
            for (AuthenticodeDigest d : AuthenticodeDigest.values()) {
                byte[] image = digest("image " + d, d.length());
                byte[] der = AuthenticodeSigner.sign(image, d.jcaName(), km);
                AuthenticodeSignature s = AuthenticodeSignature.parse(der);
                assertThat(s.digest()).isEqualTo(d);
                assertThat(s.imageDigest()).isEqualTo(image);
                assertThat(s.signer().subject()).isEqualTo(km.certificate().getSubjectX500Principal());
                assertThat(s.signer().issuer()).isEqualTo(km.certificate().getIssuerX500Principal());
                assertThat(s.signer().serialNumber()).isEqualTo(km.certificate().getSerialNumber());
                assertThat(s.certificates()).containsExactlyInAnyOrderElementsOf(km.chain());

                X509Certificate anchor = km.chain().get(km.chain().size() - 1);
                AuthenticodeVerifier.Verified v = AuthenticodeVerifier.verify(der, image, List.of(anchor));
                assertThat(v.signer()).isEqualTo(km.certificate());
                assertThat(v.trustedBy()).isEqualTo(anchor);
                // the signer certificate itself is a valid trust anchor too (a db entry)
                assertThat(AuthenticodeVerifier.verify(der, image, List.of(km.certificate())).trustedBy()).isEqualTo(km.certificate());
            }
        }
    }

    @Test
    void signatureCarriesNoSigningTimeAndIsByteForByteDeterministic() throws Exception {
        byte[] image = digest("determinism", 32);
        byte[] a = AuthenticodeSigner.sign(image, leaf());
        byte[] b = AuthenticodeSigner.sign(image, "SHA-256", leaf());
        assertThat(a).isEqualTo(b);
        byte[] signingTimeOid = new ASN1ObjectIdentifier("1.2.840.113549.1.9.5").getEncoded();
        assertThat(indexOf(a, signingTimeOid)).isEqualTo(-1);
    }

    @Test
    void signsThroughTheKeysOwnProvider() throws Exception {
        // a PKCS#11 key signs through km.provider(); any explicit provider takes the same path
        KeyMaterial plain = leaf();
        KeyMaterial viaProvider = new KeyMaterial(plain.key(), plain.certificate(), plain.chain(),
                new org.bouncycastle.jce.provider.BouncyCastleProvider(), "via provider");
        byte[] image = digest("provider", 32);
        assertThat(AuthenticodeSigner.sign(image, viaProvider)).isEqualTo(AuthenticodeSigner.sign(image, plain));
    }

    @Test
    void satisfiesEdk2FixedOffsets() throws Exception {
        for (AuthenticodeDigest d : AuthenticodeDigest.values()) {
            for (KeyMaterial km : List.of(leaf(), db())) {
                byte[] der = AuthenticodeSigner.sign(digest("edk2", d.length()), d.jcaName(), km);
                assertThat(der[0]).isEqualTo((byte) 0x30);
                assertThat(der[1]).isEqualTo((byte) 0x82);
                assertThat(((der[2] & 0xff) << 8 | (der[3] & 0xff)) + 4).isEqualTo(der.length);
                byte[] oid = d.oid().getEncoded();
                assertThat(Arrays.copyOfRange(der, 30, 32 + oid.length - 2)).isEqualTo(oid);
                assertThat(Arrays.copyOfRange(der, AuthenticodeSigner.EDK2_DIGEST_OID_OFFSET,
                        AuthenticodeSigner.EDK2_DIGEST_OID_OFFSET + oid.length - 2)).isEqualTo(Arrays.copyOfRange(oid, 2, oid.length));
            }
        }
    }

    @Test
    void refusesSignaturesEdk2CannotParse() throws Exception {
        // a chain certificate with a 70 000-byte extension pushes the PKCS#7 past 64 KiB
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair kp = g.generateKeyPair();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=big"), BigInteger.TEN,
                new java.util.Date(0), new java.util.Date(0), new X500Name("CN=big"), kp.getPublic());
        b.addExtension(new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"), false, new DEROctetString(new byte[70_000]));
        X509Certificate big = new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
        KeyMaterial km = leaf();
        KeyMaterial withBig = new KeyMaterial(km.key(), km.certificate(), List.of(km.certificate(), big), null, "big chain");
        assertThatThrownBy(() -> AuthenticodeSigner.sign(digest("big", 32), withBig))
                .isInstanceOf(SigningException.class).hasMessageContaining("64 KiB");

        byte[] ok = AuthenticodeSigner.sign(digest("x", 32), km);
        byte[] shifted = ok.clone();
        shifted[1] = (byte) 0x83;
        assertThatThrownBy(() -> AuthenticodeSigner.requireEdk2Layout(shifted, AuthenticodeDigest.SHA256))
                .isInstanceOf(SigningException.class).hasMessageContaining("edk2");
        byte[] otherOid = ok.clone();
        otherOid[40] ^= 0x01;
        assertThatThrownBy(() -> AuthenticodeSigner.requireEdk2Layout(otherOid, AuthenticodeDigest.SHA256))
                .isInstanceOf(SigningException.class).hasMessageContaining("offset 32");
    }

    @Test
    void refusesEcKeysAndBadDigests() throws Exception {
        TestPki.KeyAndCert ec = TestPki.get().ecLeaf();
        KeyMaterial km = new KeyMaterial(ec.key(), ec.cert(), ec.chain(), null, "test EC key");
        assertThatThrownBy(() -> AuthenticodeSigner.sign(digest("ec", 32), km))
                .isInstanceOf(SigningException.class).hasMessageContaining("Secure Boot requires an RSA key");
        assertThatThrownBy(() -> AuthenticodeSigner.sign(new byte[20], "SHA-1", leaf()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SHA-256, SHA-384 or SHA-512");
        assertThatThrownBy(() -> AuthenticodeSigner.sign(new byte[31], leaf()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes, not 31");
    }

    @Test
    void eachFailedCheckIsNamed() throws Exception {
        byte[] image = digest("checks", 32);
        KeyMaterial km = leaf();
        byte[] der = AuthenticodeSigner.sign(image, km);
        List<X509Certificate> ca = List.of(TestPki.get().ca().cert());

        byte[] otherImage = image.clone();
        otherImage[0] ^= 1;
        assertCheck(() -> AuthenticodeVerifier.verify(der, otherImage, ca), Check.IMAGE_DIGEST);
        assertCheck(() -> AuthenticodeVerifier.verify(der, image, List.of(TestPki.get().secureBoot().cert())), Check.TRUST);
        assertCheck(() -> AuthenticodeVerifier.verify(der, image, List.of()), Check.TRUST);

        // the image digest inside the signed content changed: the messageDigest attribute no longer matches
        byte[] tamperedContent = der.clone();
        int at = indexOf(tamperedContent, image);
        tamperedContent[at] ^= 1;
        assertCheck(() -> AuthenticodeVerifier.verify(tamperedContent, image, ca), Check.MESSAGE_DIGEST);

        // the signature value changed
        byte[] tamperedSig = der.clone();
        tamperedSig[tamperedSig.length - 10] ^= 1;
        assertCheck(() -> AuthenticodeVerifier.verify(tamperedSig, image, ca), Check.SIGNATURE);

        // a signed attribute changed (the messageDigest value, and the content to match it): signature fails
        byte[] md = MessageDigest.getInstance("SHA-256").digest(AuthenticodeSigner.contentOctets(
                new SpcIndirectDataContent(AuthenticodeDigest.SHA256, image).encoded()));
        byte[] tamperedAttr = der.clone();
        tamperedAttr[indexOf(tamperedAttr, md)] ^= 1;
        assertCheck(() -> AuthenticodeVerifier.verify(tamperedAttr, image, ca), Check.MESSAGE_DIGEST);

        // signed by another key than the embedded certificate claims
        KeyMaterial liar = new KeyMaterial(TestPki.get().secureBoot().key(), km.certificate(), km.chain(), null, "liar");
        byte[] forged = AuthenticodeSigner.sign(image, liar);
        assertCheck(() -> AuthenticodeVerifier.verify(forged, image, ca), Check.SIGNATURE);

        // the signer certificate is neither embedded nor trusted
        KeyMaterial bare = new KeyMaterial(km.key(), km.certificate(), List.of(), null, "bare");
        byte[] onlyLeaf = AuthenticodeSigner.sign(image, bare);
        assertThat(AuthenticodeSignature.parse(onlyLeaf).certificates()).containsExactly(km.certificate());
        assertThat(AuthenticodeVerifier.verify(onlyLeaf, image, ca).signer()).isEqualTo(km.certificate());
    }

    @Test
    void hostileInputIsAFormatExceptionNeverACrash() throws Exception {
        byte[] der = AuthenticodeSigner.sign(digest("hostile", 32), leaf());
        for (int len = 0; len < der.length; len += 7) {
            byte[] cut = Arrays.copyOf(der, len);
            assertThatThrownBy(() -> AuthenticodeSignature.parse(cut)).isInstanceOf(FormatException.class);
        }
        Random r = new Random(20261125L);
        List<Class<?>> seen = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            byte[] m = der.clone();
            int flips = 1 + r.nextInt(4);
            for (int f = 0; f < flips; f++) {
                m[r.nextInt(m.length)] = (byte) r.nextInt(256);
            }
            try {
                AuthenticodeVerifier.verify(m, digest("hostile", 32), List.of(TestPki.get().ca().cert()));
            } catch (IOException expected) {
                seen.add(expected.getClass());
            }
        }
        assertThat(seen).isNotEmpty();

        // 5 000 nested SEQUENCEs: refused by depth, never a StackOverflowError in the ASN.1 parser
        byte[] deep = deepSequences(5_000);
        assertThatThrownBy(() -> AuthenticodeSignature.parse(deep)).isInstanceOf(FormatException.class)
                .hasMessageContaining("nested deeper");

        // a length claiming 2 GiB allocates nothing
        byte[] huge = {0x30, (byte) 0x84, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x00};
        assertThatThrownBy(() -> AuthenticodeSignature.parse(huge)).isInstanceOf(FormatException.class)
                .hasMessageContaining("past the end");
        assertThatThrownBy(() -> AuthenticodeSignature.parse(new byte[AuthenticodeSignature.MAX_SIZE + 1]))
                .isInstanceOf(FormatException.class);
        // indefinite-length BER
        assertThatThrownBy(() -> AuthenticodeSignature.parse(new byte[] {0x30, (byte) 0x80, 0, 0}))
                .isInstanceOf(FormatException.class).hasMessageContaining("indefinite");
        // valid DER, but CMS data instead of Authenticode
        byte[] cms = dev.cairn.signing.CmsSigner.sign(new byte[] {1, 2, 3}, leaf(),
                new dev.cairn.signing.CmsOptions(false, true, true, "SHA-256"));
        assertThatThrownBy(() -> AuthenticodeSignature.parse(cms)).isInstanceOf(FormatException.class)
                .hasMessageContaining("SPC_INDIRECT_DATA");
    }

    /** {@code n} correctly nested empty-terminated SEQUENCEs (definite lengths). */
    static byte[] deepSequences(int n) {
        byte[] out = new byte[0];
        for (int i = 0; i < n; i++) {
            int len = out.length;
            byte[] header = len < 0x80 ? new byte[] {0x30, (byte) len}
                    : len < 0x100 ? new byte[] {0x30, (byte) 0x81, (byte) len}
                    : len < 0x10000 ? new byte[] {0x30, (byte) 0x82, (byte) (len >> 8), (byte) len}
                    : new byte[] {0x30, (byte) 0x83, (byte) (len >> 16), (byte) (len >> 8), (byte) len};
            byte[] next = new byte[header.length + len];
            System.arraycopy(header, 0, next, 0, header.length);
            System.arraycopy(out, 0, next, header.length, len);
            out = next;
        }
        return out;
    }

    interface Call {
        void run() throws Exception;
    }

    static void assertCheck(Call c, Check expected) {
        assertThatThrownBy(c::run).isInstanceOfSatisfying(AuthenticodeVerificationException.class,
                e -> assertThat(e.check()).as(e.getMessage()).isEqualTo(expected));
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
