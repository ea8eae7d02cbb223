package dev.cairn.signing.authenticode;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.ASN1BitString;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;

/**
 * {@code SpcIndirectDataContent} (Microsoft "Windows Authenticode Portable Executable Signature
 * Format", §"SpcIndirectDataContent"; as sbsign src/idc.c builds it for EFI images):
 * <pre>
 * SpcIndirectDataContent ::= SEQUENCE {
 *   data          SpcAttributeTypeAndOptionalValue ::= SEQUENCE {
 *                   type  1.3.6.1.4.1.311.2.1.15 (SPC_PE_IMAGE_DATA),
 *                   value SpcPeImageData ::= SEQUENCE {
 *                           flags BIT STRING,                      -- sbsign: empty (03 01 00)
 *                           file  [0] EXPLICIT SpcLink ::= [2] EXPLICIT SpcString ::= [0] IMPLICIT BMPString "&lt;&lt;&lt;Obsolete&gt;&gt;&gt;" } },
 *   messageDigest DigestInfo ::= SEQUENCE { AlgorithmIdentifier{oid, NULL}, OCTET STRING } }
 * </pre>
 *
 * @param digest      the image digest algorithm
 * @param imageDigest the Authenticode image hash (PE file hashed as edk2/sbsign do)
 */
public record SpcIndirectDataContent(AuthenticodeDigest digest, byte[] imageDigest) {
    /** SPC_INDIRECT_DATA_OBJID: the content type of the signed content. */
    public static final ASN1ObjectIdentifier SPC_INDIRECT_DATA = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.2.1.4");
    /** SPC_PE_IMAGE_DATAOBJ. */
    public static final ASN1ObjectIdentifier SPC_PE_IMAGE_DATA = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.2.1.15");
    /** The file link every signer writes since the field became obsolete. */
    public static final String OBSOLETE = "<<<Obsolete>>>";

    public SpcIndirectDataContent {
        java.util.Objects.requireNonNull(digest, "digest");
        if (imageDigest.length != digest.length()) {
            throw new IllegalArgumentException("a " + digest.jcaName() + " image digest has " + digest.length()
                    + " bytes, not " + imageDigest.length);
        }
        imageDigest = imageDigest.clone();
    }

    @Override
    public byte[] imageDigest() {
        return imageDigest.clone();
    }

    /** The ASN.1 structure, exactly as sbsign encodes it. */
    public ASN1Sequence toAsn1() {
        DERSequence peImageData = new DERSequence(new ASN1Encodable[] {
                new DERBitString(new byte[0]),
                new DERTaggedObject(true, 0, new DERTaggedObject(true, 2, new DERTaggedObject(false, 0, new DERBMPString(OBSOLETE))))});
        DERSequence data = new DERSequence(new ASN1Encodable[] {SPC_PE_IMAGE_DATA, peImageData});
        DERSequence digestInfo = new DERSequence(new ASN1Encodable[] {
                new DERSequence(new ASN1Encodable[] {digest.oid(), DERNull.INSTANCE}),
                new DEROctetString(imageDigest)});
        return new DERSequence(new ASN1Encodable[] {data, digestInfo});
    }

    /** DER encoding. */
    public byte[] encoded() {
        try {
            return toAsn1().getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException("DER encoding of fixed structure failed", e);
        }
    }

    /**
     * Reads the structure. Accepts what other signers vary ({@code flags} bits, the file link) as
     * long as the type is SPC_PE_IMAGE_DATA; the DigestInfo must name a supported digest whose
     * length matches.
     */
    static SpcIndirectDataContent fromAsn1(ASN1Encodable e) throws FormatException {
        ASN1Sequence seq = sequence(e, "SpcIndirectDataContent", 2, 2);
        ASN1Sequence data = sequence(seq.getObjectAt(0), "SpcIndirectDataContent.data", 1, 2);
        if (!(data.getObjectAt(0) instanceof ASN1ObjectIdentifier type) || !type.equals(SPC_PE_IMAGE_DATA)) {
            throw new FormatException("SpcIndirectDataContent.data.type", data.getObjectAt(0),
                    "not an Authenticode PE image signature (expected " + SPC_PE_IMAGE_DATA + ")");
        }
        if (data.size() == 2) {
            // SpcPeImageData ::= SEQUENCE { flags BIT STRING DEFAULT, file [0] EXPLICIT SpcLink OPTIONAL }
            ASN1Sequence pe = sequence(data.getObjectAt(1), "SpcPeImageData", 0, 2);
            if (pe.size() > 0 && !(pe.getObjectAt(0) instanceof ASN1BitString)
                    && !(pe.getObjectAt(0) instanceof ASN1TaggedObject)) {
                throw new FormatException("SpcPeImageData.flags", null, "not a BIT STRING");
            }
        }
        ASN1Sequence digestInfo = sequence(seq.getObjectAt(1), "DigestInfo", 2, 2);
        ASN1Sequence alg = sequence(digestInfo.getObjectAt(0), "DigestInfo.digestAlgorithm", 1, 2);
        if (!(alg.getObjectAt(0) instanceof ASN1ObjectIdentifier oid)) {
            throw new FormatException("DigestInfo.digestAlgorithm", null, "algorithm is not an OID");
        }
        AuthenticodeDigest d = AuthenticodeDigest.ofOid(oid, "DigestInfo.digestAlgorithm");
        if (!(digestInfo.getObjectAt(1) instanceof ASN1OctetString os)) {
            throw new FormatException("DigestInfo.digest", null, "not an OCTET STRING");
        }
        byte[] bytes = os.getOctets();
        if (bytes.length != d.length()) {
            throw new FormatException("DigestInfo.digest", bytes.length + " bytes",
                    "wrong length for " + d.jcaName() + " (" + d.length() + " bytes)");
        }
        return new SpcIndirectDataContent(d, bytes);
    }

    static ASN1Sequence sequence(Object o, String field, int min, int max) throws FormatException {
        if (!(o instanceof ASN1Sequence s)) {
            throw new FormatException(field, null, "not a SEQUENCE");
        }
        if (s.size() < min || s.size() > max) {
            throw new FormatException(field, s.size() + " elements", "expected " + (min == max ? "" + min : min + " to " + max));
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpcIndirectDataContent c && c.digest == digest && Arrays.equals(c.imageDigest, imageDigest);
    }

    @Override
    public int hashCode() {
        return digest.hashCode() * 31 + Arrays.hashCode(imageDigest);
    }

    @Override
    public String toString() {
        return "SpcIndirectDataContent[" + digest.jcaName() + " " + HexFormat.of().formatHex(imageDigest) + "]";
    }
}
