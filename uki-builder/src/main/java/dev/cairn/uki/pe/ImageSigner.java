package dev.cairn.uki.pe;

import java.io.IOException;

/**
 * Turns an Authenticode image digest into a DER PKCS#7 SignedData (SpcIndirectDataContent).
 * Implemented by the caller with a key source; this module never sees keys.
 */
@FunctionalInterface
public interface ImageSigner {
    /**
     * @param digestAlgorithm JCA name of the digest, e.g. {@code SHA-256}
     * @param imageDigest     the Authenticode digest of the image
     * @return DER ContentInfo for a WIN_CERTIFICATE of type PKCS_SIGNED_DATA
     */
    byte[] sign(String digestAlgorithm, byte[] imageDigest) throws IOException;
}
