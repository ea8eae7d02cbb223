package dev.cairn.signing.authenticode;

import dev.cairn.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1Set;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.pkcs.IssuerAndSerialNumber;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;

/**
 * A parsed Authenticode PKCS#7 signature (the {@code bCertificate} of a WIN_CERTIFICATE).
 *
 * @param digest       the image digest algorithm of the SpcIndirectDataContent
 * @param imageDigest  the image digest it signs
 * @param signer       the single SignerInfo's identity
 * @param certificates every embedded certificate, in signature order
 */
public record AuthenticodeSignature(AuthenticodeDigest digest, byte[] imageDigest, Signer signer,
                                    List<X509Certificate> certificates) {
    /** Larger than any usable Authenticode signature (edk2 parses at most 64 KiB). */
    public static final int MAX_SIZE = 1 << 20;

    public AuthenticodeSignature {
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(signer, "signer");
        imageDigest = imageDigest.clone();
        certificates = List.copyOf(certificates);
    }

    @Override
    public byte[] imageDigest() {
        return imageDigest.clone();
    }

    public String imageDigestHex() {
        return HexFormat.of().formatHex(imageDigest);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthenticodeSignature s && s.digest == digest && java.util.Arrays.equals(s.imageDigest, imageDigest)
                && s.signer.equals(signer) && s.certificates.equals(certificates);
    }

    @Override
    public int hashCode() {
        return Objects.hash(digest, java.util.Arrays.hashCode(imageDigest), signer, certificates);
    }

    @Override
    public String toString() {
        return "AuthenticodeSignature[" + digest.jcaName() + " " + imageDigestHex() + ", signer " + signer + ", "
                + certificates.size() + " certificates]";
    }

    /**
     * The signer, named by issuer and serial number as the SignerInfo names it.
     *
     * @param subject the subject of the matching embedded certificate, or null when none is embedded
     */
    public record Signer(X500Principal issuer, BigInteger serialNumber, X500Principal subject) {
        public boolean matches(X509Certificate c) {
            return c.getIssuerX500Principal().equals(issuer) && c.getSerialNumber().equals(serialNumber);
        }
    }

    /** Parses a signature; anything malformed or not Authenticode is a {@link FormatException}. */
    public static AuthenticodeSignature parse(byte[] der) throws FormatException {
        return Parsed.of(der).summary();
    }

    /** Everything verification needs, from one parse. */
    record Parsed(AuthenticodeSignature summary, byte[] indirectDataContent, AuthenticodeDigest signerDigest,
                  ASN1ObjectIdentifier contentTypeAttribute, byte[] messageDigestAttribute, byte[] signedAttributes,
                  ASN1ObjectIdentifier signatureAlgorithm, byte[] signature) {

        static Parsed of(byte[] der) throws FormatException {
            if (der.length > MAX_SIZE) {
                throw new FormatException("signature", der.length + " bytes", "larger than any Authenticode signature ("
                        + MAX_SIZE + " bytes)");
            }
            DerScan.check(der, "PKCS#7");
            try {
                return parse(ASN1Primitive.fromByteArray(der));
            } catch (IOException | IllegalArgumentException | IllegalStateException | ClassCastException e) {
                throw new FormatException("not a readable Authenticode PKCS#7 signature (" + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
            }
        }

        private static Parsed parse(ASN1Primitive root) throws IOException {
            ASN1Sequence contentInfo = SpcIndirectDataContent.sequence(root, "ContentInfo", 2, 2);
            if (!PKCSObjectIdentifiers.signedData.equals(contentInfo.getObjectAt(0))) {
                throw new FormatException("ContentInfo.contentType", contentInfo.getObjectAt(0), "not PKCS#7 signedData");
            }
            ASN1Sequence sd = SpcIndirectDataContent.sequence(explicit0(contentInfo.getObjectAt(1), "ContentInfo.content"),
                    "SignedData", 4, 6);
            int i = 0;
            integer(sd.getObjectAt(i++), "SignedData.version");
            set(sd.getObjectAt(i++), "SignedData.digestAlgorithms");
            ASN1Sequence encap = SpcIndirectDataContent.sequence(sd.getObjectAt(i++), "SignedData.contentInfo", 2, 2);
            if (!SpcIndirectDataContent.SPC_INDIRECT_DATA.equals(encap.getObjectAt(0))) {
                throw new FormatException("SignedData.contentInfo.contentType", encap.getObjectAt(0),
                        "not SPC_INDIRECT_DATA (" + SpcIndirectDataContent.SPC_INDIRECT_DATA + ")");
            }
            ASN1Encodable idcObj = explicit0(encap.getObjectAt(1), "SignedData.contentInfo.content");
            SpcIndirectDataContent idc = SpcIndirectDataContent.fromAsn1(idcObj);
            byte[] idcDer = idcObj.toASN1Primitive().getEncoded(ASN1Encoding.DER);

            List<X509Certificate> certs = new ArrayList<>();
            ASN1Set signerInfos = null;
            for (; i < sd.size(); i++) {
                ASN1Encodable e = sd.getObjectAt(i);
                if (e instanceof ASN1TaggedObject t && t.getTagNo() == 0 && i < sd.size() - 1) {
                    for (ASN1Encodable c : ASN1Set.getInstance(t, false)) {
                        certs.add(certificate(c));
                    }
                } else if (e instanceof ASN1TaggedObject t && t.getTagNo() == 1 && i < sd.size() - 1) {
                    continue; // CRLs: unused by UEFI
                } else if (i == sd.size() - 1) {
                    signerInfos = set(e, "SignedData.signerInfos");
                } else {
                    throw new FormatException("SignedData", "element " + i, "unexpected element");
                }
            }
            if (signerInfos == null || signerInfos.size() != 1) {
                throw new FormatException("SignedData.signerInfos", signerInfos == null ? 0 : signerInfos.size(),
                        "Authenticode has exactly one SignerInfo");
            }
            ASN1Sequence si = SpcIndirectDataContent.sequence(signerInfos.getObjectAt(0), "SignerInfo", 5, 7);
            integer(si.getObjectAt(0), "SignerInfo.version");
            IssuerAndSerialNumber ias = IssuerAndSerialNumber.getInstance(si.getObjectAt(1));
            X500Principal issuer = new X500Principal(ias.getName().getEncoded(ASN1Encoding.DER));
            BigInteger serial = ias.getCertificateSerialNumber().getValue();
            AlgorithmIdentifier signerDigestAlg = AlgorithmIdentifier.getInstance(si.getObjectAt(2));
            AuthenticodeDigest signerDigest = AuthenticodeDigest.ofOid(signerDigestAlg.getAlgorithm(), "SignerInfo.digestAlgorithm");
            if (!(si.getObjectAt(3) instanceof ASN1TaggedObject attrsTag) || attrsTag.getTagNo() != 0) {
                throw new FormatException("SignerInfo.authenticatedAttributes", null,
                        "missing (Authenticode requires signed attributes)");
            }
            ASN1Set attrs = ASN1Set.getInstance(attrsTag, false);
            ASN1ObjectIdentifier contentType = null;
            byte[] messageDigest = null;
            for (ASN1Encodable a : attrs) {
                Attribute attr = Attribute.getInstance(a);
                ASN1Set values = attr.getAttrValues();
                if (attr.getAttrType().equals(CMSAttributes.contentType)) {
                    if (contentType != null || values.size() != 1 || !(values.getObjectAt(0) instanceof ASN1ObjectIdentifier o)) {
                        throw new FormatException("SignerInfo contentType attribute", null, "not exactly one OID");
                    }
                    contentType = o;
                } else if (attr.getAttrType().equals(CMSAttributes.messageDigest)) {
                    if (messageDigest != null || values.size() != 1 || !(values.getObjectAt(0) instanceof ASN1OctetString o)) {
                        throw new FormatException("SignerInfo messageDigest attribute", null, "not exactly one OCTET STRING");
                    }
                    messageDigest = o.getOctets();
                }
            }
            if (contentType == null || messageDigest == null) {
                throw new FormatException("SignerInfo.authenticatedAttributes", null,
                        "contentType and messageDigest attributes are required");
            }
            AlgorithmIdentifier encAlg = AlgorithmIdentifier.getInstance(si.getObjectAt(4));
            if (!(si.getObjectAt(5) instanceof ASN1OctetString sig)) {
                throw new FormatException("SignerInfo.encryptedDigest", null, "not an OCTET STRING");
            }
            X500Principal subject = null;
            Signer probe = new Signer(issuer, serial, null);
            for (X509Certificate c : certs) {
                if (probe.matches(c)) {
                    subject = c.getSubjectX500Principal();
                    break;
                }
            }
            AuthenticodeSignature summary = new AuthenticodeSignature(idc.digest(), idc.imageDigest(),
                    new Signer(issuer, serial, subject), certs);
            return new Parsed(summary, idcDer, signerDigest, contentType, messageDigest,
                    attrs.getEncoded(ASN1Encoding.DL), encAlg.getAlgorithm(), sig.getOctets());
        }

        private static ASN1Encodable explicit0(ASN1Encodable e, String field) throws FormatException {
            if (!(e instanceof ASN1TaggedObject t) || t.getTagNo() != 0 || !t.isExplicit()) {
                throw new FormatException(field, null, "not an explicit [0] tag");
            }
            return t.getExplicitBaseObject();
        }

        private static void integer(ASN1Encodable e, String field) throws FormatException {
            if (!(e instanceof ASN1Integer v) || v.getValue().bitLength() > 8) {
                throw new FormatException(field, null, "not a small INTEGER");
            }
        }

        private static ASN1Set set(ASN1Encodable e, String field) throws FormatException {
            if (!(e instanceof ASN1Set s)) {
                throw new FormatException(field, null, "not a SET");
            }
            return s;
        }

        private static X509Certificate certificate(ASN1Encodable c) throws IOException {
            try {
                return (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(c.toASN1Primitive().getEncoded(ASN1Encoding.DER)));
            } catch (CertificateException e) {
                throw new FormatException("SignedData.certificates", null, "not a readable X.509 certificate");
            }
        }
    }
}
