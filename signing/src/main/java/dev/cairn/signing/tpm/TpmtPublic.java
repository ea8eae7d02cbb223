package dev.cairn.signing.tpm;

import dev.cairn.signing.SigningException;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

/**
 * {@code TPMT_PUBLIC} of an external signing key as {@code tpm2_loadexternal -u key.pem} and
 * systemd's {@code tpm2_tpm2b_public_from_openssl_pkey} build it (TPM 2.0 Library Part 2 §12.2.4),
 * big-endian; its SHA-256 is the key's name, which {@code TPM2_PolicyAuthorize} binds.
 * <pre>
 * RSA: +0 u16 type 0x0001 ‖ u16 nameAlg 0x000B ‖ u32 objectAttributes 0x00060040 ‖ u16 authPolicy size 0
 *      ‖ u16 symmetric TPM_ALG_NULL ‖ u16 scheme TPM_ALG_NULL ‖ u16 keyBits ‖ u32 exponent (65537 written out)
 *      ‖ u16 size ‖ modulus
 * ECC: +0 u16 type 0x0023 ‖ nameAlg ‖ objectAttributes ‖ authPolicy size 0 ‖ symmetric NULL ‖ scheme NULL
 *      ‖ u16 curveID ‖ u16 kdf TPM_ALG_NULL ‖ u16 size ‖ x ‖ u16 size ‖ y   (coordinates padded to the curve size)
 * </pre>
 * objectAttributes = userWithAuth | decrypt | sign.
 */
public final class TpmtPublic {
    static final int TPM_ALG_RSA = 0x0001;
    static final int TPM_ALG_ECC = 0x0023;
    static final int TPM_ALG_SHA256 = 0x000B;
    static final int TPM_ALG_NULL = 0x0010;
    static final int OBJECT_ATTRIBUTES = 0x0006_0040;

    private TpmtPublic() {
    }

    /** The marshalled TPMT_PUBLIC of an RSA or NIST P-256/P-384/P-521 public key. */
    public static byte[] encode(PublicKey key) throws SigningException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits > 16384 || rsa.getPublicExponent().bitLength() > 32) {
                throw new SigningException("RSA key of " + bits + " bits or its exponent does not fit a TPM public area");
            }
            int bytes = (bits + 7) / 8;
            u16(o, TPM_ALG_RSA);
            header(o);
            u16(o, bits);
            u32(o, rsa.getPublicExponent().intValue()); // ≤ 32 bits, checked above
            tpm2b(o, unsigned(rsa.getModulus(), bytes));
        } else if (key instanceof ECPublicKey ec) {
            int fieldBits = ec.getParams().getCurve().getField().getFieldSize();
            int curve = switch (fieldBits) {
                case 256 -> 0x0003; // TPM_ECC_NIST_P256
                case 384 -> 0x0004;
                case 521 -> 0x0005;
                default -> throw new SigningException("EC key on a " + fieldBits + "-bit curve: only NIST P-256, P-384 and P-521");
            };
            int bytes = (fieldBits + 7) / 8;
            u16(o, TPM_ALG_ECC);
            header(o);
            u16(o, curve);
            u16(o, TPM_ALG_NULL);
            tpm2b(o, unsigned(ec.getW().getAffineX(), bytes));
            tpm2b(o, unsigned(ec.getW().getAffineY(), bytes));
        } else {
            throw new SigningException("a " + key.getAlgorithm() + " key has no TPM public area here: use RSA or EC");
        }
        return o.toByteArray();
    }

    /** The key's TPM name: {@code 000B ‖ SHA-256(TPMT_PUBLIC)}. */
    public static byte[] name(PublicKey key) throws SigningException {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(encode(key));
            return ByteBuffer.allocate(2 + h.length).putShort((short) TPM_ALG_SHA256).put(h).array();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static void header(ByteArrayOutputStream o) {
        u16(o, TPM_ALG_SHA256);
        u32(o, OBJECT_ATTRIBUTES);
        u16(o, 0); // authPolicy: empty TPM2B
        u16(o, TPM_ALG_NULL); // symmetric
        u16(o, TPM_ALG_NULL); // scheme
    }

    private static byte[] unsigned(BigInteger v, int length) throws SigningException {
        byte[] b = v.toByteArray();
        int skip = 0;
        while (skip < b.length - 1 && b[skip] == 0) {
            skip++;
        }
        int n = b.length - skip;
        if (n > length) {
            throw new SigningException("key component longer than its declared size");
        }
        byte[] out = new byte[length];
        System.arraycopy(b, skip, out, length - n, n);
        return out;
    }

    private static void tpm2b(ByteArrayOutputStream o, byte[] b) {
        u16(o, b.length);
        o.writeBytes(b);
    }

    private static void u16(ByteArrayOutputStream o, int v) {
        o.write(v >>> 8);
        o.write(v);
    }

    private static void u32(ByteArrayOutputStream o, int v) {
        u16(o, v >>> 16);
        u16(o, v & 0xFFFF);
    }
}
