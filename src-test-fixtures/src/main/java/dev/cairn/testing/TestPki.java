package dev.cairn.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test PKI built at test time, once per JVM: a CA (RSA-3072), an RSA-3072 and an EC P-256 leaf
 * issued by it, and a self-signed RSA-2048 certificate shaped like a Secure Boot db key. Fixed
 * validity (2025-01-01 to 2045-01-01) and serial numbers; keys are fresh per JVM (never committed).
 */
public final class TestPki {
    static final Date NOT_BEFORE = Date.from(Instant.parse("2025-01-01T00:00:00Z"));
    static final Date NOT_AFTER = Date.from(Instant.parse("2045-01-01T00:00:00Z"));

    private static volatile TestPki instance;

    private final KeyAndCert ca;
    private final KeyAndCert rsaLeaf;
    private final KeyAndCert ecLeaf;
    private final KeyAndCert secureBoot;

    private TestPki() throws GeneralSecurityException, IOException {
        KeyPair caKeys = rsa(3072);
        X509Certificate caCert = certificate("CN=cairn test CA", caKeys.getPublic(), "CN=cairn test CA", caKeys, 1, true, null);
        ca = new KeyAndCert(caKeys.getPrivate(), caCert, List.of(caCert));
        KeyPair rk = rsa(3072);
        X509Certificate rc = certificate("CN=cairn test RSA signer", rk.getPublic(), "CN=cairn test CA", caKeys, 2, false, caCert);
        rsaLeaf = new KeyAndCert(rk.getPrivate(), rc, List.of(rc, caCert));
        KeyPairGenerator ecg = KeyPairGenerator.getInstance("EC");
        ecg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ek = ecg.generateKeyPair();
        X509Certificate ec = certificate("CN=cairn test EC signer", ek.getPublic(), "CN=cairn test CA", caKeys, 3, false, caCert);
        ecLeaf = new KeyAndCert(ek.getPrivate(), ec, List.of(ec, caCert));
        KeyPair sk = rsa(2048);
        X509Certificate sc = certificate("CN=cairn test Secure Boot db", sk.getPublic(), "CN=cairn test Secure Boot db", sk, 4, false, null);
        secureBoot = new KeyAndCert(sk.getPrivate(), sc, List.of(sc));
    }

    public static TestPki get() {
        TestPki p = instance;
        if (p == null) {
            synchronized (TestPki.class) {
                p = instance;
                if (p == null) {
                    try {
                        p = new TestPki();
                    } catch (GeneralSecurityException | IOException e) {
                        throw new IllegalStateException("cannot build the test PKI", e);
                    }
                    instance = p;
                }
            }
        }
        return p;
    }

    public KeyAndCert ca() {
        return ca;
    }

    public KeyAndCert rsaLeaf() {
        return rsaLeaf;
    }

    public KeyAndCert ecLeaf() {
        return ecLeaf;
    }

    public KeyAndCert secureBoot() {
        return secureBoot;
    }

    private static KeyPair rsa(int bits) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        return g.generateKeyPair();
    }

    private static X509Certificate certificate(String subject, PublicKey key, String issuer, KeyPair issuerKeys,
                                               long serial, boolean isCa, X509Certificate issuerCert)
            throws GeneralSecurityException, IOException {
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer), BigInteger.valueOf(serial),
                NOT_BEFORE, NOT_AFTER, new X500Name(subject), key);
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
        if (issuerCert != null) {
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerCert));
        }
        if (isCa) {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_codeSigning));
        }
        String alg = issuerKeys.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        try {
            ContentSigner signer = new JcaContentSignerBuilder(alg).build(issuerKeys.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(b.build(signer));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** A private key, its certificate, and the chain up to the CA (leaf first). */
    public record KeyAndCert(PrivateKey key, X509Certificate cert, List<X509Certificate> chain) {
        /** Writes the key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). Test keys only. */
        public Path writeKeyPem(Path file) {
            return pem(file, new Object[] {pkcs8()});
        }

        public Path writeCertPem(Path file) {
            return pem(file, new Object[] {cert});
        }

        private Object pkcs8() {
            try {
                return new JcaPKCS8Generator(key, null).generate();
            } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
                throw new IllegalStateException(e);
            }
        }

        private static Path pem(Path file, Object[] objects) {
            try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
                 JcaPEMWriter pw = new JcaPEMWriter(w)) {
                for (Object o : objects) {
                    pw.writeObject(o);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return file;
        }
    }
}
