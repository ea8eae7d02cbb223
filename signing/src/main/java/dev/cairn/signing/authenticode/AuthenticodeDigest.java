package dev.cairn.signing.authenticode;

import dev.cairn.io.FormatException;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;

/**
 * The image digest algorithms UEFI firmware accepts in an Authenticode signature (edk2
 * DxeImageVerificationLib {@code mHash[]}; SHA-1 is optional there and refused here). Each
 * constant carries its OID and digest length explicitly.
 */
public enum AuthenticodeDigest {
    SHA256("SHA-256", NISTObjectIdentifiers.id_sha256, 32),
    SHA384("SHA-384", NISTObjectIdentifiers.id_sha384, 48),
    SHA512("SHA-512", NISTObjectIdentifiers.id_sha512, 64);

    private final String jcaName;
    private final ASN1ObjectIdentifier oid;
    private final int length;

    AuthenticodeDigest(String jcaName, ASN1ObjectIdentifier oid, int length) {
        this.jcaName = jcaName;
        this.oid = oid;
        this.length = length;
    }

    /** JCA name: {@code SHA-256}, {@code SHA-384}, {@code SHA-512}. */
    public String jcaName() {
        return jcaName;
    }

    public ASN1ObjectIdentifier oid() {
        return oid;
    }

    /** Digest length in bytes. */
    public int length() {
        return length;
    }

    /** {@code SHA256withRSA} and friends. */
    String rsaSignatureAlgorithm() {
        return jcaName.replace("-", "") + "withRSA";
    }

    /** By JCA name ({@code SHA-256}, also accepted without the dash); API misuse otherwise. */
    public static AuthenticodeDigest of(String name) {
        String n = name.toUpperCase(java.util.Locale.ROOT).replace("-", "");
        for (AuthenticodeDigest d : values()) {
            if (d.jcaName.replace("-", "").equals(n)) {
                return d;
            }
        }
        throw new IllegalArgumentException("Authenticode digest must be SHA-256, SHA-384 or SHA-512, not " + name);
    }

    /** By OID, as found in a signature; an unknown OID is bad input. */
    static AuthenticodeDigest ofOid(ASN1ObjectIdentifier oid, String field) throws FormatException {
        for (AuthenticodeDigest d : values()) {
            if (d.oid.equals(oid)) {
                return d;
            }
        }
        throw new FormatException(field, oid, "unsupported Authenticode digest algorithm (SHA-256, SHA-384, SHA-512)");
    }
}
