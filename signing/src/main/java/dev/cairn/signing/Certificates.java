package dev.cairn.signing;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-made X.509 certificates (RSA keys, random 128-bit serials): Secure Boot hierarchies and development PKIs. */
public final class Certificates {
    private Certificates() {
    }

    /** A self-signed end-entity certificate for a fresh RSA key, subject {@code CN=cn}. */
    public static KeyMaterial selfSigned(String cn, int bits, Instant notBefore, Duration validity) throws SigningException {
        KeyPair kp = rsa(bits);
        X500Name name = new X500Name("CN=" + cn.replace(",", "\\,"));
        X509Certificate c = issue(name, kp, name, kp, notBefore, validity, false, null);
        return new KeyMaterial(kp.getPrivate(), c, List.of(c), null, cn);
    }

    public static KeyPair rsa(int bits) throws SigningException {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits, new SecureRandom());
            return g.generateKeyPair();
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new SigningException("cannot generate an RSA-" + bits + " key: " + e.getMessage(), e);
        }
    }

    /** Issues a certificate for {@code subjectKeys} signed by {@code issuerKeys} (SHA256withRSA), with SKI, AKI, basicConstraints, keyUsage and an optional extended key usage. */
    public static X509Certificate issue(X500Name subject, KeyPair subjectKeys, X500Name issuer, KeyPair issuerKeys, Instant notBefore,
                                         Duration validity, boolean ca, KeyPurposeId eku) throws SigningException {
        try {
            byte[] serial = new byte[16];
            new SecureRandom().nextBytes(serial);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(1, serial), Date.from(notBefore),
                    Date.from(notBefore.plus(validity)), subject, subjectKeys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKeys.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature
                    : KeyUsage.digitalSignature));
            if (eku != null) {
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
            }
            return new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKeys.getPrivate())));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new SigningException("cannot create a development certificate: " + e.getMessage(), e);
        }
    }
}
