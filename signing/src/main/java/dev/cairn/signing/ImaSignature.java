package dev.cairn.signing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.DigestInfo;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * IMA signature version 2, the {@code security.ima} value {@code evmctl ima_sign} writes
 * (kernel {@code security/integrity/integrity.h} {@code signature_v2_hdr}):
 * <pre>
 * 0  u8    type      0x03 EVM_IMA_XATTR_DIGSIG
 * 1  u8    version   2
 * 2  u8    hash_algo kernel enum hash_algo (SHA1 2, SHA256 4, SHA384 5, SHA512 6)
 * 3  be32  keyid     last 4 bytes of the certificate's subject key identifier
 * 7  be16  sig_size
 * 9  …     signature over the file digest (RSA PKCS#1 v1.5 with DigestInfo, or DER ECDSA)
 * </pre>
 */
public final class ImaSignature {
    /** Header size before the signature. */
    public static final int HEADER = 9;

    private ImaSignature() {
    }

    /** Hash algorithms IMA signatures use, with the kernel's enum value. */
    public enum Hash {
        SHA1(2, "SHA-1", OIWObjectIdentifiers.idSHA1), SHA256(4, "SHA-256", NISTObjectIdentifiers.id_sha256),
        SHA384(5, "SHA-384", NISTObjectIdentifiers.id_sha384), SHA512(6, "SHA-512", NISTObjectIdentifiers.id_sha512);

        private final int kernelId;
        private final String jca;
        private final org.bouncycastle.asn1.ASN1ObjectIdentifier oid;

        Hash(int kernelId, String jca, org.bouncycastle.asn1.ASN1ObjectIdentifier oid) {
            this.kernelId = kernelId;
            this.jca = jca;
            this.oid = oid;
        }

        public int kernelId() {
            return kernelId;
        }

        /** The JCA digest name ({@code SHA-256}, ...). */
        public String jcaName() {
            return jca;
        }

        public MessageDigest newDigest() {
            try {
                return MessageDigest.getInstance(jca);
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** The signature blob for a file whose content is read from {@code in}. */
    public static byte[] sign(InputStream in, Hash hash, KeyMaterial km) throws IOException {
        MessageDigest md = hash.newDigest();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
        }
        return signDigest(md.digest(), hash, km);
    }

    /** The signature blob for a precomputed file digest. */
    public static byte[] signDigest(byte[] digest, Hash hash, KeyMaterial km) throws SigningException {
        byte[] sig;
        try {
            if (km.key() instanceof RSAKey) {
                byte[] info = new DigestInfo(new AlgorithmIdentifier(hash.oid, DERNull.INSTANCE), digest).getEncoded("DER");
                Signature s = km.provider() != null ? Signature.getInstance("NONEwithRSA", km.provider()) : Signature.getInstance("NONEwithRSA");
                s.initSign(km.key());
                s.update(info);
                sig = s.sign();
            } else if (km.key() instanceof ECKey) {
                Signature s = km.provider() != null ? Signature.getInstance("NONEwithECDSA", km.provider()) : Signature.getInstance("NONEwithECDSA");
                s.initSign(km.key());
                s.update(digest);
                sig = s.sign();
            } else {
                throw new SigningException("IMA signatures need an RSA or EC key, not " + km.key().getAlgorithm());
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new SigningException("IMA signing failed with " + km.description() + ": " + e.getMessage(), e);
        }
        if (sig.length > 0xFFFF) {
            throw new SigningException("signature too large for an IMA header: " + sig.length);
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER + sig.length); // big-endian, as the kernel reads it
        b.put((byte) 0x03).put((byte) 2).put((byte) hash.kernelId()).put(keyId(km)).putShort((short) sig.length).put(sig);
        return b.array();
    }

    /**
     * The 4-byte key id: the tail of the certificate's subject key identifier extension, or of
     * SHA-1 over the public key bits (RFC 5280 method 1, what evmctl computes) when it has none.
     */
    public static byte[] keyId(KeyMaterial km) throws SigningException {
        byte[] ski;
        byte[] ext = km.certificate().getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ext != null) {
            byte[] inner = ASN1OctetString.getInstance(ext).getOctets();
            ski = ASN1OctetString.getInstance(inner).getOctets();
        } else {
            byte[] bits = SubjectPublicKeyInfo.getInstance(km.certificate().getPublicKey().getEncoded()).getPublicKeyData().getBytes();
            try {
                ski = MessageDigest.getInstance("SHA-1").digest(bits);
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        if (ski.length < 4) {
            throw new SigningException("subject key identifier shorter than 4 bytes");
        }
        return Arrays.copyOfRange(ski, ski.length - 4, ski.length);
    }
}
