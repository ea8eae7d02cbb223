package dev.cairn.signing;

import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * JWS signatures (RFC 7518 §3.4, §3.5) with the algorithm fixed by the key, as the Notary Project
 * requires ({@code notaryproject/specifications:specs/signature-specification.md} "Algorithm
 * Selection"): RSA 2048 → PS256, 3072 → PS384, 4096 → PS512 (RSASSA-PSS, MGF1 with the same hash,
 * salt = hash length); EC P-256 → ES256, P-384 → ES384, P-521 → ES512 (raw {@code r‖s}). Works
 * with software keys and PKCS#11 tokens (SunPKCS11 {@code RSASSA-PSS} and
 * {@code SHA*withECDSAinP1363Format}).
 */
public final class JwsSignature {
    private JwsSignature() {
    }

    /** The JWS {@code alg} for a key; other sizes and curves are refused. */
    public static String algorithmFor(PublicKey key) throws SigningException {
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            return switch (bits) {
                case 2048 -> "PS256";
                case 3072 -> "PS384";
                case 4096 -> "PS512";
                default -> throw new SigningException("RSA-" + bits + " keys have no Notary Project algorithm (use 2048, 3072 or 4096 bits)");
            };
        }
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return switch (bits) {
                case 256 -> "ES256";
                case 384 -> "ES384";
                case 521 -> "ES512";
                default -> throw new SigningException("EC keys on a " + bits + "-bit curve have no Notary Project algorithm (use P-256, P-384 or P-521)");
            };
        }
        throw new SigningException("unsupported key type " + key.getAlgorithm() + " for JWS (use RSA or EC)");
    }

    /** Signs {@code input} with the algorithm {@link #algorithmFor} picks for the certificate's key. */
    public static byte[] sign(byte[] input, KeyMaterial km) throws SigningException {
        String alg = algorithmFor(km.certificate().getPublicKey());
        try {
            Signature s = instance(alg, km.provider());
            s.initSign(km.key());
            s.update(input);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot sign (" + alg + ") with " + km.description() + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code signature} is a valid {@code alg} signature of {@code key} over {@code input}; malformed is false. */
    public static boolean verify(String alg, byte[] input, byte[] signature, PublicKey key) throws SigningException {
        try {
            Signature s = instance(alg, null);
            s.initVerify(key);
            s.update(input);
            return s.verify(signature);
        } catch (java.security.SignatureException | java.security.InvalidKeyException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot verify " + alg + ": " + e.getMessage(), e);
        }
    }

    private static Signature instance(String alg, java.security.Provider provider) throws GeneralSecurityException {
        String hash = "SHA-" + alg.substring(2);
        String jca;
        AlgorithmParameterSpec params = null;
        switch (alg) {
            case "PS256", "PS384", "PS512" -> {
                jca = "RSASSA-PSS";
                int len = Integer.parseInt(alg.substring(2)) / 8;
                params = new PSSParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), len, 1);
            }
            case "ES256", "ES384", "ES512" -> jca = "SHA" + alg.substring(2) + "withECDSAinP1363Format";
            default -> throw new java.security.NoSuchAlgorithmException("unsupported JWS algorithm " + alg);
        }
        Signature s = provider != null ? Signature.getInstance(jca, provider) : Signature.getInstance(jca);
        if (params != null) {
            s.setParameter(params);
        }
        return s;
    }
}
