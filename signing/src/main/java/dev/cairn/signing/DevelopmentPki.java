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

/**
 * Throw-away development keys: a CA and code-signing leaves it issues, RSA with fresh random
 * keys every time. For local builds and tests only; the subjects say so ("… (development, not
 * for release)") so such a key is recognisable wherever its certificate ends up.
 */
public final class DevelopmentPki {
    public static final String MARK = " (development, not for release)";

    private DevelopmentPki() {
    }

    /** A self-signed CA certificate (basicConstraints CA, keyCertSign). */
    public static KeyMaterial ca(String cn, int bits, Instant notBefore, Duration validity) throws SigningException {
        KeyPair kp = Certificates.rsa(bits);
        X500Name name = name(cn);
        X509Certificate c = Certificates.issue(name, kp, name, kp, notBefore, validity, true, null);
        return new KeyMaterial(kp.getPrivate(), c, List.of(c), null, cn);
    }

    /**
     * A leaf issued by {@code ca} with digitalSignature and the given extended key usage
     * ({@code null}: none); its chain is leaf, CA.
     */
    public static KeyMaterial leaf(KeyMaterial ca, String cn, int bits, Instant notBefore, Duration validity, KeyPurposeId eku)
            throws SigningException {
        KeyPair kp = Certificates.rsa(bits);
        X509Certificate c = Certificates.issue(name(cn), kp, new X500Name(ca.certificate().getSubjectX500Principal().getName()),
                new KeyPair(ca.certificate().getPublicKey(), ca.key()), notBefore, validity, false, eku);
        return new KeyMaterial(kp.getPrivate(), c, List.of(c, ca.certificate()), null, cn);
    }

    /** A self-signed end-entity certificate (e.g. a PCR policy key, whose certificate nobody checks). */
    public static KeyMaterial selfSigned(String cn, int bits, Instant notBefore, Duration validity) throws SigningException {
        return Certificates.selfSigned(cn + MARK, bits, notBefore, validity);
    }

    private static X500Name name(String cn) {
        return new X500Name("CN=" + (cn + MARK).replace(",", "\\,"));
    }
}
