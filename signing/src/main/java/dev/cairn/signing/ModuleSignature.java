package dev.cairn.signing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Appended kernel-module signatures, as {@code scripts/sign-file} makes them: the module, a
 * detached DER PKCS#7 over it (no certificates, no signed attributes, issuer and serial), the
 * 12-byte {@code struct module_signature} ({@code include/linux/module_signature.h}: algo 0,
 * hash 0, id_type 2 = PKEY_ID_PKCS7, signer_len 0, key_id_len 0, 3 pad bytes, be32 sig_len) and
 * the magic {@code "~Module signature appended~\n"}.
 */
public final class ModuleSignature {
    /** The trailer magic. */
    public static final byte[] MAGIC = "~Module signature appended~\n".getBytes(StandardCharsets.US_ASCII);
    /** {@code struct module_signature} size. */
    public static final int INFO_SIZE = 12;

    private ModuleSignature() {
    }

    /** True when {@code module} already ends with an appended signature. */
    public static boolean isSigned(byte[] module) {
        return module.length >= MAGIC.length
                && Arrays.equals(module, module.length - MAGIC.length, module.length, MAGIC, 0, MAGIC.length);
    }

    /**
     * The signed module. {@code digest} is the JCA name (SHA-256, SHA-384, SHA-512). A module
     * that is already signed is refused (sign-file would append a second signature the kernel
     * never reads).
     */
    public static byte[] sign(byte[] module, KeyMaterial km, String digest) throws SigningException {
        if (isSigned(module)) {
            throw new SigningException("the module already has an appended signature");
        }
        return appended(module, CmsSigner.sign(module, km, options(digest)));
    }

    private static CmsOptions options(String digest) {
        return new CmsOptions(true, false, false, digest);
    }

    private static byte[] appended(byte[] module, byte[] sig) {
        ByteBuffer b = ByteBuffer.allocate(module.length + sig.length + INFO_SIZE + MAGIC.length); // big-endian
        b.put(module).put(sig);
        b.put((byte) 0).put((byte) 0).put((byte) 2).put((byte) 0).put((byte) 0).put(new byte[3]).putInt(sig.length);
        b.put(MAGIC);
        return b.array();
    }

    /** A {@link Signer} for many modules with one key and digest. */
    public static Signer signer(KeyMaterial km, String digest) {
        return new Signer(km, digest);
    }

    /**
     * Signs many modules with one key, exactly as {@link #sign} would, in less time: with an RSA
     * key the PKCS#7 of one module differs from another's only in the PKCS#1 v1.5 signature
     * itself, which is as long as the modulus and ends the DER (a detached SignedData without
     * certificates, signed or unsigned attributes). So the first module goes through Bouncy
     * Castle's CMS generator, and if that DER ends with the signature value it was made with (a
     * JCA signature of the key's provider and the same algorithm), the rest are signed by the JCA
     * alone (one pass of the digest over the module instead of two, no ASN.1 built) and their
     * signatures put in place of the first one's. Any other key (EC) or a DER of another shape:
     * every module goes through {@link #sign}.
     * Thread-safe: a batch signs on several threads.
     */
    public static final class Signer {
        private final KeyMaterial km;
        private final String digest;
        private final String jcaAlgorithm;
        private final int signatureLength;
        /** The first module's DER once it proved usable as a template (set once). */
        private volatile byte[] template;
        /** False once the first module showed no template can be used. */
        private volatile boolean templatable;
        /**
         * Each signing thread's initialised signature, kept between modules: after {@code sign()} a
         * JCA Signature is ready for the next message with the same key, and a batch no longer looks up
         * the provider, builds the padding and checks the key for every module (all in the
         * interpreter for the first few hundred modules).
         */
        private final ThreadLocal<java.security.Signature> signatures = new ThreadLocal<>();

        private Signer(KeyMaterial km, String digest) {
            this.km = km;
            this.digest = digest;
            java.security.PublicKey pub = km.certificate().getPublicKey();
            if (pub instanceof java.security.interfaces.RSAPublicKey rsa) {
                this.jcaAlgorithm = digest.replace("-", "") + "withRSA";
                this.signatureLength = (rsa.getModulus().bitLength() + 7) / 8;
                this.templatable = true;
            } else {
                this.jcaAlgorithm = null;
                this.signatureLength = 0;
                this.templatable = false;
            }
        }

        /** The signed module (see {@link ModuleSignature#sign}). */
        public byte[] sign(byte[] module) throws SigningException {
            if (isSigned(module)) {
                throw new SigningException("the module already has an appended signature");
            }
            byte[] t = template;
            if (t != null) {
                byte[] raw = rawSignature(module);
                if (raw.length == signatureLength) {
                    byte[] der = t.clone();
                    System.arraycopy(raw, 0, der, der.length - raw.length, raw.length);
                    return appended(module, der);
                }
            }
            byte[][] raw = new byte[1][];
            byte[] der = CmsSigner.sign(module, km, options(digest), value -> raw[0] = value);
            if (t == null && templatable) {
                learn(der, raw[0]);
            }
            return appended(module, der);
        }

        /**
         * Takes {@code der} as the template if it ends with {@code raw}, the signature value it was
         * made with (one RSA operation for the first module, not a second one to compare with).
         */
        private void learn(byte[] der, byte[] raw) {
            boolean fits = raw != null && raw.length == signatureLength && der.length > raw.length
                    && java.util.Arrays.equals(der, der.length - raw.length, der.length, raw, 0, raw.length);
            if (fits) {
                template = der.clone();
            } else {
                templatable = false;
            }
        }

        private byte[] rawSignature(byte[] module) throws SigningException {
            java.security.Signature s = signatures.get();
            try {
                if (s == null) {
                    s = km.provider() != null
                            ? java.security.Signature.getInstance(jcaAlgorithm, km.provider())
                            : java.security.Signature.getInstance(jcaAlgorithm);
                    s.initSign(km.key());
                }
                s.update(module);
                byte[] value = s.sign(); // and ready for the next module, with the same key
                signatures.set(s);
                return value;
            } catch (java.security.GeneralSecurityException | RuntimeException e) {
                signatures.remove(); // a fresh one for the next module: this one's state is unknown
                if (e instanceof RuntimeException r) {
                    throw r;
                }
                throw new SigningException("cannot sign with " + km.description() + ": " + e.getMessage(), e);
            }
        }

        /** Whether modules after the first are signed from the template (for tests). */
        boolean usesTemplate() {
            return template != null;
        }
    }
}
