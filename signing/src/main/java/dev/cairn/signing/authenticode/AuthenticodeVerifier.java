package dev.cairn.signing.authenticode;

import dev.cairn.io.FormatException;
import dev.cairn.signing.SigningException;
import dev.cairn.signing.authenticode.AuthenticodeVerificationException.Check;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;

/**
 * Verifies an Authenticode PKCS#7 signature the way UEFI firmware does (edk2
 * {@code Pkcs7Verify}): the messageDigest attribute covers the SpcIndirectDataContent, the RSA
 * signature over the signed attributes verifies with the signer's certificate, that certificate is
 * (or chains through embedded certificates to) a trusted one, and the signed image digest is the
 * expected one. Like edk2 it checks no validity dates (firmware has no trusted clock).
 */
public final class AuthenticodeVerifier {
    /** Longest chain followed from the signer towards a trusted certificate. */
    static final int MAX_CHAIN = 8;

    private AuthenticodeVerifier() {
    }

    /** What verified. */
    public record Verified(AuthenticodeSignature signature, X509Certificate signer, X509Certificate trustedBy) {
    }

    /**
     * @param der                 the PKCS#7 signature
     * @param expectedImageDigest the image digest computed from the PE file
     * @param trusted             db certificates: the signer itself or a CA above it
     * @throws FormatException                     malformed input
     * @throws AuthenticodeVerificationException   a check failed; {@code check()} names it
     */
    public static Verified verify(byte[] der, byte[] expectedImageDigest, List<X509Certificate> trusted)
            throws SigningException, FormatException {
        AuthenticodeSignature.Parsed p = AuthenticodeSignature.Parsed.of(der);
        AuthenticodeSignature s = p.summary();
        if (!SpcIndirectDataContent.SPC_INDIRECT_DATA.equals(p.contentTypeAttribute())) {
            throw new AuthenticodeVerificationException(Check.ATTRIBUTES, "the contentType attribute is "
                    + p.contentTypeAttribute() + ", not SPC_INDIRECT_DATA");
        }
        try {
            byte[] actual = MessageDigest.getInstance(p.signerDigest().jcaName())
                    .digest(AuthenticodeSigner.contentOctets(p.indirectDataContent()));
            if (!MessageDigest.isEqual(actual, p.messageDigestAttribute())) {
                throw new AuthenticodeVerificationException(Check.MESSAGE_DIGEST,
                        "the messageDigest attribute does not match the signed SpcIndirectDataContent");
            }
            List<X509Certificate> pool = new ArrayList<>(s.certificates());
            pool.addAll(trusted);
            X509Certificate signer = null;
            for (X509Certificate c : pool) { // a loop: this check runs once per fresh JVM, a lambda costs it ~0.6 ms to link
                if (s.signer().matches(c)) {
                    signer = c;
                    break;
                }
            }
            if (signer == null) {
                throw new AuthenticodeVerificationException(Check.SIGNER_CERTIFICATE,
                        "no certificate for issuer " + s.signer().issuer() + " serial " + s.signer().serialNumber());
            }
            if (!"RSA".equals(signer.getPublicKey().getAlgorithm())) {
                throw new AuthenticodeVerificationException(Check.SIGNATURE, "the signer's key is "
                        + signer.getPublicKey().getAlgorithm() + "; Secure Boot requires RSA");
            }
            if (!PKCSObjectIdentifiers.rsaEncryption.equals(p.signatureAlgorithm())
                    && !p.signatureAlgorithm().equals(rsaWith(p.signerDigest()))) {
                throw new AuthenticodeVerificationException(Check.SIGNATURE, "unsupported signature algorithm "
                        + p.signatureAlgorithm());
            }
            Signature v = Signature.getInstance(p.signerDigest().rsaSignatureAlgorithm());
            v.initVerify(signer.getPublicKey());
            v.update(p.signedAttributes());
            boolean ok;
            try {
                ok = v.verify(p.signature());
            } catch (java.security.SignatureException e) {
                ok = false;
            }
            if (!ok) {
                throw new AuthenticodeVerificationException(Check.SIGNATURE, "the signature by "
                        + signer.getSubjectX500Principal() + " does not verify");
            }
            X509Certificate anchor = chainToTrusted(signer, s.certificates(), trusted);
            if (!MessageDigest.isEqual(s.imageDigest(), expectedImageDigest)) {
                throw new AuthenticodeVerificationException(Check.IMAGE_DIGEST, "the signature is for image digest "
                        + s.imageDigestHex() + " (" + s.digest().jcaName() + "), the image has "
                        + HexFormat.of().formatHex(expectedImageDigest));
            }
            return new Verified(s, signer, anchor);
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot verify the Authenticode signature: " + e.getMessage(), e);
        }
    }

    private static org.bouncycastle.asn1.ASN1ObjectIdentifier rsaWith(AuthenticodeDigest d) {
        return switch (d) {
            case SHA256 -> PKCSObjectIdentifiers.sha256WithRSAEncryption;
            case SHA384 -> PKCSObjectIdentifiers.sha384WithRSAEncryption;
            case SHA512 -> PKCSObjectIdentifiers.sha512WithRSAEncryption;
        };
    }

    /** The trusted certificate the signer is, or is issued (through embedded certificates) by. */
    private static X509Certificate chainToTrusted(X509Certificate signer, List<X509Certificate> embedded,
                                                  List<X509Certificate> trusted) throws AuthenticodeVerificationException {
        if (trusted.isEmpty()) {
            throw new AuthenticodeVerificationException(Check.TRUST, "no trusted certificate given");
        }
        X509Certificate cur = signer;
        for (int depth = 0; depth < MAX_CHAIN; depth++) {
            if (trusted.contains(cur)) {
                return cur;
            }
            for (X509Certificate t : trusted) {
                if (issuedBy(cur, t)) {
                    return t;
                }
            }
            X509Certificate next = null;
            for (X509Certificate e : embedded) {
                if (!e.equals(cur) && issuedBy(cur, e)) {
                    next = e;
                    break;
                }
            }
            if (next == null) {
                break;
            }
            cur = next;
        }
        throw new AuthenticodeVerificationException(Check.TRUST, "the signer " + signer.getSubjectX500Principal()
                + " does not chain to a trusted certificate");
    }

    private static boolean issuedBy(X509Certificate c, X509Certificate issuer) {
        if (!c.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            c.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
