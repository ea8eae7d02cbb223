package dev.cairn.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.SecureRandomSpi;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * RSA keys and certificates that are the same on every run and machine: key pairs come from Bouncy
 * Castle's RSA generator fed by a SHA-256 counter stream over a seed, certificates have fixed
 * serials and validity and are signed with PKCS#1 v1.5 (deterministic). For golden files of whole
 * signed builds; never for anything real (the seed is in the test).
 */
public final class SeededKeys {
    static final Date NOT_BEFORE = Date.from(Instant.parse("2025-01-01T00:00:00Z"));
    static final Date NOT_AFTER = Date.from(Instant.parse("2045-01-01T00:00:00Z"));

    private SeededKeys() {
    }

    /** A key pair and its certificate chain (leaf first). */
    public record Issued(KeyPair keys, X509Certificate certificate, X509Certificate issuer) {
        /** Writes {@code NAME.key} (PKCS#8 PEM) and {@code NAME.crt} (the leaf, then its issuer) into {@code dir}. */
        public void writeTo(Path dir, String name) {
            try {
                Files.createDirectories(dir);
                Files.writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
                String chain = pem("CERTIFICATE", certificate.getEncoded())
                        + (issuer == null ? "" : pem("CERTIFICATE", issuer.getEncoded()));
                Files.writeString(dir.resolve(name + ".crt"), chain);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** An RSA key pair derived from {@code seed}. */
    public static KeyPair rsa(String seed, int bits) {
        RSAKeyPairGenerator g = new RSAKeyPairGenerator();
        g.init(new RSAKeyGenerationParameters(BigInteger.valueOf(65537), random(seed), bits, 112));
        AsymmetricCipherKeyPair kp = g.generateKeyPair();
        try {
            KeyFactory f = KeyFactory.getInstance("RSA");
            return new KeyPair(f.generatePublic(new X509EncodedKeySpec(SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(kp.getPublic())
                    .getEncoded())), f.generatePrivate(new PKCS8EncodedKeySpec(PrivateKeyInfoFactory.createPrivateKeyInfo(kp.getPrivate())
                    .getEncoded())));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A self-signed certificate; {@code ca} makes it a CA (keyCertSign). */
    public static Issued selfSigned(String seed, String cn, int bits, long serial, boolean ca) {
        KeyPair kp = rsa(seed, bits);
        return new Issued(kp, certificate(cn, kp, cn, kp, serial, ca, null), null);
    }

    /** A code-signing leaf issued by {@code ca}. */
    public static Issued leaf(Issued ca, String seed, String cn, int bits, long serial) {
        KeyPair kp = rsa(seed, bits);
        String issuer = ca.certificate().getSubjectX500Principal().getName();
        return new Issued(kp, certificate(cn, kp, issuer, ca.keys(), serial, false, KeyPurposeId.id_kp_codeSigning), ca.certificate());
    }

    private static X509Certificate certificate(String subject, KeyPair subjectKeys, String issuer, KeyPair issuerKeys, long serial,
                                               boolean ca, KeyPurposeId eku) {
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer.startsWith("CN=") ? issuer : "CN=" + issuer),
                    BigInteger.valueOf(serial), NOT_BEFORE, NOT_AFTER, new X500Name("CN=" + subject.replaceFirst("^CN=", "")),
                    subjectKeys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature
                    : KeyUsage.digitalSignature));
            if (eku != null) {
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
            }
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA")
                    .build(issuerKeys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException("cannot issue " + subject, e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** SHA-256(seed ‖ counter) blocks, one after another: the same bytes for the same seed everywhere. */
    static SecureRandom random(String seed) {
        byte[] s = seed.getBytes(StandardCharsets.UTF_8);
        SecureRandomSpi spi = new SecureRandomSpi() {
            private static final long serialVersionUID = 1L;
            private long counter;

            @Override
            protected void engineSetSeed(byte[] ignored) {
                // the stream depends on the constructor's seed only
            }

            @Override
            protected void engineNextBytes(byte[] out) {
                try {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    for (int off = 0; off < out.length; off += 32) {
                        md.update(s);
                        md.update(BigInteger.valueOf(counter++).toByteArray());
                        byte[] block = md.digest();
                        System.arraycopy(block, 0, out, off, Math.min(32, out.length - off));
                    }
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            protected byte[] engineGenerateSeed(int n) {
                byte[] b = new byte[n];
                engineNextBytes(b);
                return b;
            }
        };
        return new SecureRandom(spi, null) {
            private static final long serialVersionUID = 1L;
        };
    }
}
