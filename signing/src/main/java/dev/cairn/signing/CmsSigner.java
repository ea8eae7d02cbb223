package dev.cairn.signing;

import java.io.IOException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Hashtable;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSAttributeTableGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignatureEncryptionAlgorithmFinder;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.DefaultCMSSignatureEncryptionAlgorithmFinder;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * CMS/PKCS#7 SignedData over bytes, as {@code openssl cms -sign} makes it, always DER. Signed
 * attributes, when asked for, are content-type and message-digest only: no signing time, so the
 * output depends on nothing but its inputs (and RSA PKCS#1 v1.5 signatures are deterministic).
 *
 * <p>An RSA PKCS#1 v1.5 SignerInfo names its signature algorithm {@code rsaEncryption}, as
 * {@code openssl cms -sign} writes it: the Linux kernel's PKCS#7 parser (dm-verity root-hash
 * signatures, IPE policies, modules) accepts only that for RSA and refuses
 * {@code sha256WithRSAEncryption} with "Unsupported pkey algo: 12" ({@code -ENOPKG}), which Bouncy
 * Castle 1.82 would write by default. Seen on Debian's 6.12 kernel (cli IpeBootIT).
 */
public final class CmsSigner {
    private static final Set<ASN1ObjectIdentifier> RSA_PKCS1_V15 = Set.of(PKCSObjectIdentifiers.sha1WithRSAEncryption,
            PKCSObjectIdentifiers.sha224WithRSAEncryption, PKCSObjectIdentifiers.sha256WithRSAEncryption,
            PKCSObjectIdentifiers.sha384WithRSAEncryption, PKCSObjectIdentifiers.sha512WithRSAEncryption);
    private static final CMSSignatureEncryptionAlgorithmFinder OPENSSL_NAMES = new CMSSignatureEncryptionAlgorithmFinder() {
        private final CMSSignatureEncryptionAlgorithmFinder others = new DefaultCMSSignatureEncryptionAlgorithmFinder();

        @Override
        public AlgorithmIdentifier findEncryptionAlgorithm(AlgorithmIdentifier signatureAlgorithm) {
            return RSA_PKCS1_V15.contains(signatureAlgorithm.getAlgorithm())
                    ? new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE)
                    : others.findEncryptionAlgorithm(signatureAlgorithm);
        }
    };

    private CmsSigner() {
    }

    public static byte[] sign(byte[] content, KeyMaterial km, CmsOptions options) throws SigningException {
        return sign(content, km, options, null);
    }

    /**
     * Like {@link #sign(byte[], KeyMaterial, CmsOptions)}; {@code rawSignature} (nullable) is given
     * the signature value itself as the key computed it (what the SignerInfo's {@code signature}
     * holds).
     */
    static byte[] sign(byte[] content, KeyMaterial km, CmsOptions options, java.util.function.Consumer<byte[]> rawSignature)
            throws SigningException {
        try {
            String keyAlg = km.certificate().getPublicKey().getAlgorithm();
            String digest = options.digest().replace("-", "");
            String sigAlg = switch (keyAlg) {
                case "RSA" -> digest + (options.pss() ? "withRSAandMGF1" : "withRSA");
                case "EC" -> digest + "withECDSA";
                default -> throw new SigningException("unsupported key type " + keyAlg + " (use RSA or EC)");
            };
            if (options.pss() && !keyAlg.equals("RSA")) {
                throw new SigningException("RSA-PSS needs an RSA key, not " + keyAlg);
            }
            JcaContentSignerBuilder csb = new JcaContentSignerBuilder(sigAlg);
            if (km.provider() != null) {
                csb.setProvider(km.provider());
            } else if (options.pss()) {
                csb.setProvider(KeyLoader.bouncyCastle()); // the JDK names PSS differently (RSASSA-PSS + parameters)
            }
            ContentSigner built = csb.build(km.key());
            ContentSigner signer = rawSignature == null ? built : new ContentSigner() {
                @Override
                public org.bouncycastle.asn1.x509.AlgorithmIdentifier getAlgorithmIdentifier() {
                    return built.getAlgorithmIdentifier();
                }

                @Override
                public java.io.OutputStream getOutputStream() {
                    return built.getOutputStream();
                }

                @Override
                public byte[] getSignature() {
                    byte[] value = built.getSignature();
                    rawSignature.accept(value.clone());
                    return value;
                }
            };
            JcaSignerInfoGeneratorBuilder sib = new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build(),
                    OPENSSL_NAMES);
            if (options.signedAttributes()) {
                sib.setSignedAttributeGenerator(CmsSigner::minimalAttributes);
            } else {
                sib.setDirectSignature(true);
            }
            CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
            gen.addSignerInfoGenerator(sib.build(signer, km.certificate()));
            if (options.includeCerts()) {
                gen.addCertificates(new JcaCertStore(km.chain().isEmpty() ? java.util.List.of(km.certificate()) : km.chain()));
            }
            CMSSignedData sd = gen.generate(new CMSProcessableByteArray(content), !options.detached());
            return sd.toASN1Structure().getEncoded(ASN1Encoding.DER);
        } catch (OperatorCreationException | CMSException | CertificateEncodingException e) {
            throw new SigningException("cannot sign with " + km.description() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new SigningException("cannot encode the signature: " + e.getMessage(), e);
        }
    }

    /** content-type and message-digest, nothing else (RFC 5652 §11.1, §11.2). */
    private static AttributeTable minimalAttributes(java.util.Map<?, ?> params) {
        Hashtable<ASN1ObjectIdentifier, Attribute> t = new Hashtable<>();
        ASN1ObjectIdentifier contentType = (ASN1ObjectIdentifier) params.get(CMSAttributeTableGenerator.CONTENT_TYPE);
        byte[] digest = (byte[]) params.get(CMSAttributeTableGenerator.DIGEST);
        t.put(CMSAttributes.contentType, new Attribute(CMSAttributes.contentType, new DERSet(contentType)));
        t.put(CMSAttributes.messageDigest, new Attribute(CMSAttributes.messageDigest, new DERSet(new DEROctetString(digest))));
        return new AttributeTable(t);
    }

    /** PEM armour as openssl cms writes it. */
    public static String toPem(byte[] der) {
        return Pem.encode("CMS", der);
    }

    /** SHA-256 of the certificate's DER encoding, lower-case hex (systemd's certificateFingerprint). */
    public static String fingerprint(X509Certificate cert) throws SigningException {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new SigningException("cannot encode certificate: " + e.getMessage(), e);
        }
    }
}
