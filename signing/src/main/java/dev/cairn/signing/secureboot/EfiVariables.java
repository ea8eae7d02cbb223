package dev.cairn.signing.secureboot;

import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.UUID;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.IssuerAndSerialNumber;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Certificate;

/**
 * UEFI Secure Boot variable payloads (UEFI spec §32.4, §8.2): {@code EFI_SIGNATURE_LIST}s of X.509
 * certificates, {@code EFI_TIME}, and time-based authenticated updates
 * ({@code EFI_VARIABLE_AUTHENTICATION_2} + data, the {@code .auth} files of efitools/sbctl).
 * Byte-identical to efitools' {@code cert-to-efi-sig-list} and {@code sign-efi-sig-list} for the
 * same inputs: the CertData is a PKCS#7 SignedData without its ContentInfo wrapper, SHA-256, no
 * signed attributes, the signer certificate included.
 */
public final class EfiVariables {
    /** EFI_CERT_X509_GUID. */
    public static final UUID CERT_X509 = UUID.fromString("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
    /** EFI_CERT_TYPE_PKCS7_GUID. */
    public static final UUID CERT_TYPE_PKCS7 = UUID.fromString("4aafd29d-68df-49ee-8aa9-347d375665a7");
    /** EFI_GLOBAL_VARIABLE (PK, KEK). */
    public static final UUID GLOBAL_VARIABLE = UUID.fromString("8be4df61-93ca-11d2-aa0d-00e098032b8c");
    /** EFI_IMAGE_SECURITY_DATABASE_GUID (db, dbx). */
    public static final UUID IMAGE_SECURITY_DATABASE = UUID.fromString("d719b2cb-3d3a-4596-a3bc-dad00e67656f");
    /** Microsoft's signature owner GUID, used for its KEK and db certificates. */
    public static final UUID MICROSOFT_OWNER = UUID.fromString("77fa9abd-0359-4d32-bd60-28f4e78f784b");
    /** NV | BS | RT | TIME_BASED_AUTHENTICATED_WRITE_ACCESS. */
    public static final int ATTRIBUTES = 0x27;
    /** APPEND_WRITE. */
    public static final int APPEND = 0x40;

    private EfiVariables() {
    }

    /** A GUID in EFI byte order: the first three fields little-endian, the rest as written. */
    public static byte[] guid(UUID u) {
        ByteBuffer b = ByteBuffer.allocate(16);
        long hi = u.getMostSignificantBits();
        b.order(ByteOrder.LITTLE_ENDIAN).putInt((int) (hi >>> 32)).putShort((short) (hi >>> 16)).putShort((short) hi);
        b.order(ByteOrder.BIG_ENDIAN).putLong(u.getLeastSignificantBits());
        return b.array();
    }

    /** The vendor GUID of a Secure Boot variable (PK and KEK: global; db, dbx: security database). */
    public static UUID vendorOf(String variable) {
        return switch (variable) {
            case "PK", "KEK" -> GLOBAL_VARIABLE;
            case "db", "dbx", "dbt", "dbr" -> IMAGE_SECURITY_DATABASE;
            default -> throw new IllegalArgumentException("not a Secure Boot variable: " + variable + " (PK, KEK, db, dbx)");
        };
    }

    /**
     * One {@code EFI_SIGNATURE_LIST} holding one X.509 certificate: type GUID, u32 list size,
     * u32 header size 0, u32 signature size (16 + DER), then owner GUID and DER.
     */
    public static byte[] signatureList(UUID owner, X509Certificate cert) throws SigningException {
        byte[] der;
        try {
            der = cert.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new SigningException("cannot encode certificate " + cert.getSubjectX500Principal(), e);
        }
        ByteBuffer b = ByteBuffer.allocate(28 + 16 + der.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(guid(CERT_X509)).putInt(28 + 16 + der.length).putInt(0).putInt(16 + der.length);
        b.put(guid(owner)).put(der);
        return b.array();
    }

    /** {@code EFI_TIME} (16 bytes) for {@code t} in UTC, nanosecond/timezone/daylight zero as edk2 requires. */
    public static byte[] efiTime(Instant t) {
        ZonedDateTime z = t.atZone(ZoneOffset.UTC);
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) z.getYear()).put((byte) z.getMonthValue()).put((byte) z.getDayOfMonth()).put((byte) z.getHour())
                .put((byte) z.getMinute()).put((byte) z.getSecond()).put((byte) 0).putInt(0).putShort((short) 0).put((byte) 0)
                .put((byte) 0);
        return b.array();
    }

    /**
     * A signed time-based update of {@code variable} to {@code data} ({@code .auth}):
     * EFI_TIME ‖ WIN_CERTIFICATE_UEFI_GUID{dwLength, 0x0200, 0x0EF1, PKCS7 GUID, SignedData} ‖ data,
     * where the signature covers name (UTF-16LE, no NUL) ‖ vendor GUID ‖ attributes ‖ EFI_TIME ‖ data.
     * With {@code append} the attributes include APPEND_WRITE.
     */
    public static byte[] authenticatedUpdate(String variable, UUID vendor, boolean append, Instant time, byte[] data,
                                             KeyMaterial signer) throws SigningException {
        if (!(signer.key() instanceof RSAKey) && !"RSA".equals(signer.key().getAlgorithm())) {
            throw new SigningException("Secure Boot variables are signed with RSA keys; " + signer.description() + " is "
                    + signer.key().getAlgorithm());
        }
        int attrs = ATTRIBUTES | (append ? APPEND : 0);
        byte[] efiTime = efiTime(time); // also for APPEND_WRITE, as efitools 1.9 does (edk2 does not order appends)
        byte[] name = variable.getBytes(StandardCharsets.UTF_16LE);
        ByteBuffer signed = ByteBuffer.allocate(name.length + 16 + 4 + 16 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        signed.put(name).put(guid(vendor)).putInt(attrs).put(efiTime).put(data);
        byte[] sd = signedData(signed.array(), signer);
        ByteBuffer out = ByteBuffer.allocate(16 + 24 + sd.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(efiTime).putInt(24 + sd.length).putShort((short) 0x0200).putShort((short) 0x0EF1).put(guid(CERT_TYPE_PKCS7))
                .put(sd).put(data);
        return out.array();
    }

    /** PKCS#7 SignedData (v1) over {@code content}, detached, SHA-256 with RSA, no attributes, signer cert included. */
    static byte[] signedData(byte[] content, KeyMaterial signer) throws SigningException {
        try {
            AlgorithmIdentifier sha256 = new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256, DERNull.INSTANCE);
            AlgorithmIdentifier rsa = new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE);
            Signature s = signer.provider() != null ? Signature.getInstance("SHA256withRSA", signer.provider())
                    : Signature.getInstance("SHA256withRSA");
            s.initSign(signer.key());
            s.update(content);
            byte[] sig = s.sign();
            Certificate cert = Certificate.getInstance(signer.certificate().getEncoded());
            ASN1EncodableVector si = new ASN1EncodableVector();
            si.add(new ASN1Integer(1));
            si.add(new IssuerAndSerialNumber(X500Name.getInstance(cert.getIssuer()), cert.getSerialNumber().getValue()));
            si.add(sha256);
            si.add(rsa);
            si.add(new DEROctetString(sig));
            ASN1EncodableVector sd = new ASN1EncodableVector();
            sd.add(new ASN1Integer(1));
            sd.add(new DERSet(sha256));
            sd.add(new DERSequence(PKCSObjectIdentifiers.data));
            sd.add(new DERTaggedObject(false, 0, new DERSet(cert)));
            sd.add(new DERSet(new DERSequence(si)));
            return new DERSequence(sd).getEncoded("DER");
        } catch (GeneralSecurityException | IOException e) {
            throw new SigningException("signing the variable update with " + signer.description() + " failed: " + e.getMessage(), e);
        }
    }

    /** SHA-256 of {@code b} (for fingerprints in reports). */
    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
