package dev.cairn.signing.authenticode;

import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.pkcs.IssuerAndSerialNumber;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Certificate;

/**
 * Authenticode PKCS#7 for UEFI images, built as sbsign builds it (sbsign src/idc.c; reference
 * uki-pe-secureboot §5.3–5.5), but deterministic:
 * <pre>
 * ContentInfo { signedData, [0] SignedData {
 *   version 1, digestAlgorithms { {digest, NULL} },
 *   contentInfo { SPC_INDIRECT_DATA, [0] SpcIndirectDataContent },
 *   certificates [0] { leaf and chain },
 *   signerInfos { SignerInfo { version 1, issuerAndSerialNumber, {digest, NULL},
 *                              [0] { contentType = SPC_INDIRECT_DATA, messageDigest },
 *                              {rsaEncryption, NULL}, RSASSA-PKCS1-v1_5 signature } } } }
 * </pre>
 * The messageDigest attribute is the digest of the SpcIndirectDataContent DER <em>without</em> its
 * outer tag and length. No signing time and no S/MIME capabilities: the output depends only on the
 * image digest, the key and the certificates, and RSA PKCS#1 v1.5 makes it byte-identical every run.
 *
 * <p>The result satisfies edk2's parser (DxeImageVerificationLib {@code HashPeImageByType}): the
 * outer SEQUENCE has a two-byte long-form length ({@code 30 82 LL LL}) and the digest OID sits at
 * byte offset 32; a signature that would break either (a chain over 64 KiB) is refused.
 *
 * <p>This class knows nothing about PE files: the caller hashes the image.
 */
public final class AuthenticodeSigner {
    /** Where edk2 looks for the digest algorithm OID's value bytes. */
    public static final int EDK2_DIGEST_OID_OFFSET = 32;

    private AuthenticodeSigner() {
    }

    /** SHA-256 Authenticode signature over an image digest. */
    public static byte[] sign(byte[] imageDigest, KeyMaterial km) throws SigningException {
        return sign(imageDigest, AuthenticodeDigest.SHA256.jcaName(), km);
    }

    /**
     * @param imageDigest     the PE image's Authenticode digest
     * @param digestAlgorithm {@code SHA-256} (use this), {@code SHA-384} or {@code SHA-512}
     * @param km              an RSA key with its certificate (and chain, leaf first); a PKCS#11 key
     *                        signs through {@code km.provider()}
     * @return DER PKCS#7 ContentInfo, the {@code bCertificate} of a WIN_CERTIFICATE
     */
    public static byte[] sign(byte[] imageDigest, String digestAlgorithm, KeyMaterial km) throws SigningException {
        AuthenticodeDigest digest = AuthenticodeDigest.of(digestAlgorithm);
        String keyAlg = km.certificate().getPublicKey().getAlgorithm();
        if (!"RSA".equals(keyAlg)) {
            throw new SigningException("Secure Boot requires an RSA key; " + km.description() + " is " + keyAlg);
        }
        SpcIndirectDataContent idc = new SpcIndirectDataContent(digest, imageDigest);
        try {
            byte[] idcDer = idc.encoded();
            byte[] messageDigest = MessageDigest.getInstance(digest.jcaName()).digest(contentOctets(idcDer));
            AlgorithmIdentifier digestAlg = new AlgorithmIdentifier(digest.oid(), DERNull.INSTANCE);

            DERSet signedAttributes = new DERSet(new ASN1Encodable[] {
                    new org.bouncycastle.asn1.cms.Attribute(CMSAttributes.contentType, new DERSet(SpcIndirectDataContent.SPC_INDIRECT_DATA)),
                    new org.bouncycastle.asn1.cms.Attribute(CMSAttributes.messageDigest, new DERSet(new DEROctetString(messageDigest)))});
            Signature s = km.provider() == null ? Signature.getInstance(digest.rsaSignatureAlgorithm())
                    : Signature.getInstance(digest.rsaSignatureAlgorithm(), km.provider());
            s.initSign(km.key());
            s.update(signedAttributes.getEncoded(ASN1Encoding.DER));
            byte[] signature = s.sign();

            Certificate leaf = Certificate.getInstance(km.certificate().getEncoded());
            DERSequence signerInfo = new DERSequence(new ASN1Encodable[] {
                    new ASN1Integer(1),
                    new IssuerAndSerialNumber(leaf.getIssuer(), leaf.getSerialNumber().getValue()),
                    digestAlg,
                    new DERTaggedObject(false, 0, signedAttributes),
                    new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
                    new DEROctetString(signature)});

            ASN1EncodableVector certs = new ASN1EncodableVector();
            for (X509Certificate c : certificates(km)) {
                certs.add(Certificate.getInstance(c.getEncoded()));
            }
            DERSequence signedData = new DERSequence(new ASN1Encodable[] {
                    new ASN1Integer(1),
                    new DERSet(digestAlg),
                    new DERSequence(new ASN1Encodable[] {SpcIndirectDataContent.SPC_INDIRECT_DATA,
                            new DERTaggedObject(true, 0, idc.toAsn1())}),
                    new DERTaggedObject(false, 0, new DERSet(certs)),
                    new DERSet(signerInfo)});
            byte[] der = new DERSequence(new ASN1Encodable[] {PKCSObjectIdentifiers.signedData,
                    new DERTaggedObject(true, 0, signedData)}).getEncoded(ASN1Encoding.DER);
            requireEdk2Layout(der, digest);
            return der;
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot sign with " + km.description() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new SigningException("cannot encode the Authenticode signature: " + e.getMessage(), e);
        }
    }

    /** The leaf first, then the rest of the chain, each once. */
    private static List<X509Certificate> certificates(KeyMaterial km) {
        List<X509Certificate> out = new ArrayList<>();
        out.add(km.certificate());
        for (X509Certificate c : km.chain()) {
            if (!out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * The bytes Authenticode's messageDigest covers: the DER of a structure without its outer tag
     * and length (sbsign skips them; so do Windows and edk2).
     */
    static byte[] contentOctets(byte[] der) {
        int l0 = der[1] & 0xff;
        int header = l0 < 0x80 ? 2 : 2 + (l0 & 0x7f);
        return Arrays.copyOfRange(der, header, der.length);
    }

    /**
     * edk2 reads {@code AuthData[1] & 0x82 == 0x82} and compares the digest OID value at offset 32
     * with fixed bytes; anything else means every firmware verification fails.
     */
    static void requireEdk2Layout(byte[] der, AuthenticodeDigest digest) throws SigningException {
        byte[] oid;
        try {
            oid = digest.oid().getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] value = Arrays.copyOfRange(oid, 2, oid.length);
        if (der.length > 0xFFFF + 4) {
            throw new SigningException("the Authenticode signature would be " + der.length
                    + " bytes; UEFI firmware (edk2) only parses signatures under 64 KiB: use a shorter certificate chain");
        }
        boolean lengthOk = der.length >= 4 && der[0] == 0x30 && (der[1] & 0xff) == 0x82;
        boolean oidOk = der.length >= EDK2_DIGEST_OID_OFFSET + value.length
                && Arrays.equals(der, EDK2_DIGEST_OID_OFFSET, EDK2_DIGEST_OID_OFFSET + value.length, value, 0, value.length);
        if (!lengthOk || !oidOk) {
            throw new SigningException("the Authenticode signature breaks edk2's fixed layout (outer length "
                    + HexFormat.of().formatHex(der, 0, Math.min(4, der.length)) + ", digest OID expected at offset "
                    + EDK2_DIGEST_OID_OFFSET + "); UEFI firmware would reject it");
        }
    }
}
