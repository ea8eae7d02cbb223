package dev.cairn.signing;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** PKIX trust of a signer certificate: a path to a trusted certificate, valid at a given time, revocation not checked. */
public final class CertificateTrust {
    private CertificateTrust() {
    }

    /**
     * Throws unless {@code cert} is one of {@code trusted} (and valid at {@code at}) or chains to one
     * of them through certificates from {@code pool}, every certificate valid at {@code at}.
     */
    public static void requireTrusted(X509Certificate cert, List<X509Certificate> trusted, List<X509Certificate> pool,
                                       Instant at) throws SigningException, GeneralSecurityException {
        try {
            cert.checkValidity(Date.from(at));
        } catch (java.security.cert.CertificateExpiredException e) {
            throw new SigningException("the signer certificate " + cert.getSubjectX500Principal() + " expired on "
                    + cert.getNotAfter().toInstant());
        } catch (java.security.cert.CertificateNotYetValidException e) {
            throw new SigningException("the signer certificate " + cert.getSubjectX500Principal() + " is not valid before "
                    + cert.getNotBefore().toInstant());
        }
        if (trusted.contains(cert)) {
            cert.checkValidity(Date.from(at));
            return;
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate t : trusted) {
            anchors.add(new TrustAnchor(t, null));
        }
        if (anchors.isEmpty()) {
            throw new SigningException("no trusted certificate given");
        }
        X509CertSelector target = new X509CertSelector();
        target.setCertificate(cert);
        PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, target);
        params.setRevocationEnabled(false);
        params.setDate(Date.from(at));
        params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool)));
        try {
            CertPathBuilder.getInstance("PKIX").build(params);
        } catch (GeneralSecurityException e) {
            throw new SigningException("the signer " + cert.getSubjectX500Principal() + " is not trusted: " + e.getMessage());
        }
    }
}
