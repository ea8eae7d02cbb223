package dev.cairn.signing.pcr;

import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Secret;
import dev.cairn.signing.SigningException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.HexFormat;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encoding;

/**
 * The RSA key pair that signs PCR policies (systemd-measure {@code --private-key}/{@code --public-key},
 * ukify {@code --pcr-private-key}/{@code --pcr-public-key}). It usually has no certificate.
 *
 * @param privateKey  the RSA private key (a PKCS#11 handle when {@code provider} is set)
 * @param publicKey   its public half
 * @param provider    the JCA provider that must sign with the key, or null for software keys
 * @param description for messages (a file name, a token URI)
 */
public record PcrSigningKey(PrivateKey privateKey, RSAPublicKey publicKey, Provider provider, String description) {
    public PcrSigningKey {
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(publicKey, "publicKey");
        Objects.requireNonNull(description, "description");
    }

    /** A software key pair; the public key is required to be the private key's. */
    public static PcrSigningKey of(PrivateKey privateKey, PublicKey publicKey, String description) throws SigningException {
        return checked(new PcrSigningKey(privateKey, rsa(publicKey, description), null, description));
    }

    /** The key of a certificate-carrying KeyMaterial (for instance a PKCS#11 token key). */
    public static PcrSigningKey of(KeyMaterial km) throws SigningException {
        return checked(new PcrSigningKey(km.key(), rsa(km.certificate().getPublicKey(), km.description()), km.provider(),
                km.description()));
    }

    /**
     * PEM files as systemd-measure takes them. Without {@code publicKeyFile} the public key is
     * derived from the private key (PKCS#8 and traditional RSA keys both carry it).
     */
    public static PcrSigningKey fromPem(Path privateKeyFile, Path publicKeyFile, Secret pass) throws IOException {
        PrivateKey priv = KeyLoader.loadPrivateKey(privateKeyFile, pass);
        PublicKey pub;
        if (publicKeyFile != null) {
            pub = KeyLoader.loadPublicKey(publicKeyFile);
        } else if (priv instanceof RSAPrivateCrtKey crt) {
            try {
                pub = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
            } catch (GeneralSecurityException e) {
                throw new SigningException(privateKeyFile + ": cannot derive the public key: " + e.getMessage(), e);
            }
        } else {
            throw new SigningException(privateKeyFile + ": " + priv.getAlgorithm()
                    + " key; PCR policies are signed with RSA keys (the TPM policy uses RSASSA)");
        }
        return of(priv, pub, privateKeyFile.toString());
    }

    private static RSAPublicKey rsa(PublicKey k, String description) throws SigningException {
        if (!(k instanceof RSAPublicKey r)) {
            throw new SigningException(description + ": " + k.getAlgorithm()
                    + " key; PCR policies are signed with RSA keys (the TPM policy uses RSASSA)");
        }
        return r;
    }

    /** Signs a random challenge and checks it with the public key. */
    private static PcrSigningKey checked(PcrSigningKey k) throws SigningException {
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        try {
            byte[] sig = k.sign(challenge);
            Signature v = Signature.getInstance("SHA256withRSA");
            v.initVerify(k.publicKey);
            v.update(challenge);
            boolean ok;
            try {
                ok = v.verify(sig);
            } catch (java.security.SignatureException e) {
                ok = false; // e.g. a signature of another key size
            }
            if (!ok) {
                throw new SigningException("the public key does not belong to the private key " + k.description);
            }
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot check the key pair " + k.description + ": " + e.getMessage(), e);
        }
        return k;
    }

    /** RSASSA-PKCS1-v1_5 with SHA-256 over {@code data}. */
    byte[] sign(byte[] data) throws SigningException {
        try {
            Signature s = provider == null ? Signature.getInstance("SHA256withRSA") : Signature.getInstance("SHA256withRSA", provider);
            s.initSign(privateKey);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot sign with " + description + ": " + e.getMessage(), e);
        }
    }

    /**
     * PKCS#1 {@code RSAPublicKey ::= SEQUENCE { modulus, publicExponent }} DER: what OpenSSL's
     * {@code i2d_PublicKey} writes and systemd fingerprints.
     */
    public byte[] rsaPublicKeyDer() {
        return rsaPublicKeyDer(publicKey);
    }

    /** {@code pkfp}: SHA-256 of {@link #rsaPublicKeyDer()} (systemd openssl-util.c {@code pubkey_fingerprint}). */
    public byte[] fingerprint() {
        return fingerprint(publicKey);
    }

    /** PKCS#1 RSAPublicKey DER of any RSA public key. */
    public static byte[] rsaPublicKeyDer(RSAPublicKey key) {
        try {
            return new org.bouncycastle.asn1.pkcs.RSAPublicKey(key.getModulus(), key.getPublicExponent())
                    .getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException("DER encoding of an RSA public key failed", e);
        }
    }

    /** {@code pkfp} of any RSA public key. */
    public static byte[] fingerprint(RSAPublicKey key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(rsaPublicKeyDer(key));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    public String fingerprintHex() {
        return HexFormat.of().formatHex(fingerprint());
    }

    /**
     * The {@code .pcrpkey} section: PEM SubjectPublicKeyInfo, 64-column base64, as
     * {@code openssl rsa -pubout} writes it.
     */
    public String pcrpkeyPem() {
        return dev.cairn.signing.Pem.encode("PUBLIC KEY", publicKey.getEncoded());
    }

    @Override
    public String toString() {
        BigInteger n = publicKey.getModulus();
        return "PcrSigningKey[" + description + ", RSA-" + n.bitLength() + "]";
    }
}
