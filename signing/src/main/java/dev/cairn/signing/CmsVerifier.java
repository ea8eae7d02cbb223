package dev.cairn.signing;

import java.security.GeneralSecurityException;
import java.security.cert.CertStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.util.Selector;

/**
 * Verifies CMS/PKCS#7 SignedData: every signature, and that the signer chains to one of the
 * trusted certificates (a CA, or the signer certificate itself).
 */
public final class CmsVerifier {
    private CmsVerifier() {
    }

    /** The verified content and signer. */
    public record Verified(byte[] content, X509Certificate signer) {
    }

    /**
     * @param cms        DER SignedData
     * @param detached   the content for a detached signature, or null for an attached one
     * @param trusted    CA certificates or the signer's own certificate
     * @param extraCerts certificates to find the signer among when the signature carries none
     * @param at         the time at which certificates must be valid
     */
    public static Verified verify(byte[] cms, byte[] detached, List<X509Certificate> trusted,
                                  List<X509Certificate> extraCerts, Instant at) throws SigningException {
        try {
            CMSSignedData sd = detached == null ? new CMSSignedData(cms)
                    : new CMSSignedData(new CMSProcessableByteArray(detached), cms);
            if (sd.getSignedContent() == null) {
                throw new SigningException("the signature is detached: give the signed content");
            }
            byte[] content = detached != null ? detached : (byte[]) sd.getSignedContent().getContent();
            JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
            List<X509Certificate> pool = pool(sd, extraCerts, conv);
            Collection<SignerInformation> signers = sd.getSignerInfos().getSigners();
            if (signers.isEmpty()) {
                throw new SigningException("the signature has no signer");
            }
            X509Certificate signerCert = null;
            for (SignerInformation si : signers) {
                X509Certificate cert = findSigner(si, pool, conv);
                JcaSimpleSignerInfoVerifierBuilder vb = new JcaSimpleSignerInfoVerifierBuilder();
                if (org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_RSASSA_PSS.getId().equals(si.getEncryptionAlgOID())) {
                    vb.setProvider(KeyLoader.bouncyCastle()); // the JDK names PSS differently (RSASSA-PSS + parameters)
                }
                if (!si.verify(vb.build(cert))) {
                    throw new SigningException("signature by " + cert.getSubjectX500Principal() + " does not verify");
                }
                CertificateTrust.requireTrusted(cert, trusted, pool, at);
                signerCert = cert;
            }
            return new Verified(content, signerCert);
        } catch (CMSException e) {
            throw new SigningException("signature verification failed: " + e.getMessage(), e);
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new SigningException("cannot verify the signature: " + e.getMessage(), e);
        }
    }

    /**
     * The certificate of the (first) signer as the signature itself carries it, without checking
     * anything: to compare it with a pinned certificate before {@link #verify} trusts it.
     */
    public static X509Certificate signerCertificate(byte[] cms) throws SigningException {
        try {
            CMSSignedData sd = new CMSSignedData(cms);
            Collection<SignerInformation> signers = sd.getSignerInfos().getSigners();
            if (signers.isEmpty()) {
                throw new SigningException("the signature has no signer");
            }
            JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
            return findSigner(signers.iterator().next(), pool(sd, List.of(), conv), conv);
        } catch (CMSException e) {
            throw new SigningException("not a CMS signature: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot read the signer certificate: " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> pool(CMSSignedData sd, List<X509Certificate> extraCerts, JcaX509CertificateConverter conv)
            throws GeneralSecurityException {
        List<X509Certificate> pool = new ArrayList<>(extraCerts);
        for (Object h : sd.getCertificates().getMatches(null)) {
            pool.add(conv.getCertificate((X509CertificateHolder) h));
        }
        return pool;
    }

    private static X509Certificate findSigner(SignerInformation si, List<X509Certificate> pool, JcaX509CertificateConverter conv)
            throws SigningException, GeneralSecurityException {
        @SuppressWarnings("unchecked")
        Selector<X509CertificateHolder> sel = (Selector<X509CertificateHolder>) (Selector<?>) si.getSID();
        for (X509Certificate c : pool) {
            if (sel.match(new X509CertificateHolder(encoded(c)))) {
                return c;
            }
        }
        throw new SigningException("the signer's certificate is neither in the signature nor given");
    }

    private static org.bouncycastle.asn1.x509.Certificate encoded(X509Certificate c) throws GeneralSecurityException {
        return org.bouncycastle.asn1.x509.Certificate.getInstance(c.getEncoded());
    }

}
