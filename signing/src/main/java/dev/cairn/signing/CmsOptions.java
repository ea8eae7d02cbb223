package dev.cairn.signing;

/**
 * How to build a CMS/PKCS#7 SignedData, named after openssl's flags.
 *
 * @param detached         content not embedded (openssl default without {@code -nodetach})
 * @param includeCerts     embed the signer's certificate chain (off: {@code -nocerts})
 * @param signedAttributes add content-type, signing-time-free message-digest attributes (off: {@code -noattr})
 * @param digest           digest algorithm: SHA-256, SHA-384 or SHA-512
 * @param pss              RSASSA-PSS (MGF1 with the same digest, salt = digest length) instead of PKCS#1 v1.5
 *                         (openssl {@code -keyopt rsa_padding_mode:pss}); RSA keys only
 */
public record CmsOptions(boolean detached, boolean includeCerts, boolean signedAttributes, String digest, boolean pss) {
    public CmsOptions(boolean detached, boolean includeCerts, boolean signedAttributes, String digest) {
        this(detached, includeCerts, signedAttributes, digest, false);
    }

    public CmsOptions {
        if (!digest.equals("SHA-256") && !digest.equals("SHA-384") && !digest.equals("SHA-512")) {
            throw new IllegalArgumentException("digest must be SHA-256, SHA-384 or SHA-512, not " + digest);
        }
    }

    /** What the kernel wants for a dm-verity root-hash signature: detached, no attributes. */
    public static CmsOptions kernelDetached(boolean includeCerts) {
        return new CmsOptions(true, includeCerts, false, "SHA-256");
    }
}
