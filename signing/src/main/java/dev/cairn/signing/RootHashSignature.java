package dev.cairn.signing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * dm-verity root-hash signatures: a detached DER PKCS#7 over the root hash as lower-case hex
 * ASCII, no newline, no signed attributes, exactly what the kernel checks for
 * {@code root_hash_sig_key_desc} ({@code veritysetup open --root-hash-signature}); and the systemd
 * verity-sig JSON that carries it in a signature partition.
 */
public final class RootHashSignature {
    private RootHashSignature() {
    }

    /** The bytes the kernel verifies: the root hash in lower-case hex. */
    public static byte[] signedBytes(String rootHashHex) {
        String hex = rootHashHex.toLowerCase(Locale.ROOT);
        if (!hex.matches("[0-9a-f]+") || hex.length() % 2 != 0) {
            throw new IllegalArgumentException("root hash must be hex, not '" + rootHashHex + "'");
        }
        return hex.getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] sign(String rootHashHex, KeyMaterial km, boolean includeCerts) throws SigningException {
        return CmsSigner.sign(signedBytes(rootHashHex), km, CmsOptions.kernelDetached(includeCerts));
    }

    /** systemd's verity-sig JSON: {@code {"rootHash":…,"certificateFingerprint":…,"signature":…}}. */
    public static String systemdJson(String rootHashHex, byte[] signature, KeyMaterial km) throws SigningException {
        return "{\"rootHash\":\"" + rootHashHex.toLowerCase(Locale.ROOT) + "\",\"certificateFingerprint\":\""
                + CmsSigner.fingerprint(km.certificate()) + "\",\"signature\":\""
                + Base64.getEncoder().encodeToString(signature) + "\"}";
    }
}
