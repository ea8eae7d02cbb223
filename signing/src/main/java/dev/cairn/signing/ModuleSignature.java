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
        byte[] sig = CmsSigner.sign(module, km, new CmsOptions(true, false, false, digest));
        ByteBuffer b = ByteBuffer.allocate(module.length + sig.length + INFO_SIZE + MAGIC.length); // big-endian
        b.put(module).put(sig);
        b.put((byte) 0).put((byte) 0).put((byte) 2).put((byte) 0).put((byte) 0).put(new byte[3]).putInt(sig.length);
        b.put(MAGIC);
        return b.array();
    }
}
