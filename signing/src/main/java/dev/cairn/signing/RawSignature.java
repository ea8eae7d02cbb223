package dev.cairn.signing;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;

/**
 * A plain signature over bytes, SHA-256 with the key's algorithm: ECDSA (ASN.1 DER, as
 * {@code openssl dgst -sha256 -sign} writes it) or RSA PKCS#1 v1.5 — what cosign's simple-signing
 * signatures are.
 */
public final class RawSignature {
    private RawSignature() {
    }

    static String algorithm(String keyAlgorithm) throws SigningException {
        return switch (keyAlgorithm) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> throw new SigningException("unsupported key type " + keyAlgorithm + " (use EC P-256/P-384 or RSA)");
        };
    }

    public static byte[] sign(byte[] data, KeyMaterial km) throws SigningException {
        return sign(data, km.key(), km.certificate().getPublicKey().getAlgorithm(), km.provider(), km.description());
    }

    /**
     * A signature by a key that has no certificate (cosign's keyed mode: {@code cosign.key}, a PEM key).
     * {@code description} names the key in errors (a file name, never key material).
     */
    public static byte[] sign(byte[] data, PrivateKey key, String description) throws SigningException {
        return sign(data, key, key.getAlgorithm(), null, description);
    }

    private static byte[] sign(byte[] data, PrivateKey key, String keyAlgorithm, Provider provider, String description)
            throws SigningException {
        try {
            String alg = algorithm(keyAlgorithm);
            Signature s = provider != null ? Signature.getInstance(alg, provider) : Signature.getInstance(alg);
            s.initSign(key);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot sign with " + description + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code signature} is {@code key}'s over {@code data}; malformed signatures are false. */
    public static boolean verify(byte[] data, byte[] signature, PublicKey key) throws SigningException {
        try {
            Signature s = Signature.getInstance(algorithm(key.getAlgorithm()));
            s.initVerify(key);
            s.update(data);
            return s.verify(signature);
        } catch (java.security.SignatureException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot verify with a " + key.getAlgorithm() + " key: " + e.getMessage(), e);
        }
    }
}
