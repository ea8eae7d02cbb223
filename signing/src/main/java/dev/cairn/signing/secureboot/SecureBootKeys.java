package dev.cairn.signing.secureboot;

import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A Secure Boot key hierarchy like {@code sbctl create-keys} + efitools: PK, KEK and db RSA keys
 * with self-signed certificates, an {@code EFI_SIGNATURE_LIST} for each, and the signed updates
 * that enroll them (PK signed by itself, KEK by PK, db by KEK). Vendor certificates (Microsoft's
 * KEK and UEFI CA) can be appended to KEK and db so option ROMs and shim keep working.
 *
 * @param keySize  RSA key size (2048, 3072 or 4096)
 * @param validity certificate validity
 * @param owner    signature owner GUID of cairn's own certificates
 * @param subject  common-name prefix ("cairn" → "cairn Platform Key", …)
 */
public record SecureBootKeys(int keySize, Duration validity, UUID owner, String subject) {
    /** The variables, in enrollment-dependency order. */
    public static final List<String> VARIABLES = List.of("PK", "KEK", "db");

    public SecureBootKeys {
        if (keySize != 2048 && keySize != 3072 && keySize != 4096) {
            throw new IllegalArgumentException("Secure Boot keys are RSA 2048, 3072 or 4096, not " + keySize);
        }
    }

    /** One generated level: key, certificate and the files that carry it. */
    public record Level(String variable, KeyMaterial key, byte[] keyPem, byte[] certPem, byte[] esl, byte[] auth) {
    }

    /**
     * Generates PK, KEK and db. {@code extraKek}/{@code extraDb} are vendor certificates appended
     * (owner = Microsoft's GUID) to the KEK and db lists; {@code time} is the timestamp of the
     * authenticated updates and the certificates' start.
     */
    public Map<String, Level> create(Instant time, List<X509Certificate> extraKek, List<X509Certificate> extraDb)
            throws SigningException {
        Map<String, Level> out = new LinkedHashMap<>();
        KeyMaterial pk = generate(subject + " Platform Key", time);
        KeyMaterial kek = generate(subject + " Key Exchange Key", time);
        KeyMaterial db = generate(subject + " Signature Database key", time);
        out.put("PK", level("PK", pk, pk, List.of(), time));
        out.put("KEK", level("KEK", kek, pk, extraKek, time));
        out.put("db", level("db", db, kek, extraDb, time));
        return out;
    }

    private Level level(String var, KeyMaterial km, KeyMaterial signer, List<X509Certificate> extra, Instant time)
            throws SigningException {
        ByteArrayOutputStream esl = new ByteArrayOutputStream();
        esl.writeBytes(EfiVariables.signatureList(owner, km.certificate()));
        for (X509Certificate c : extra) {
            esl.writeBytes(EfiVariables.signatureList(EfiVariables.MICROSOFT_OWNER, c));
        }
        byte[] data = esl.toByteArray();
        byte[] auth = EfiVariables.authenticatedUpdate(var, EfiVariables.vendorOf(var), false, time, data, signer);
        return new Level(var, km, pem(km.key()), pem(km.certificate()), data, auth);
    }

    private KeyMaterial generate(String cn, Instant time) throws SigningException {
        return dev.cairn.signing.Certificates.selfSigned(cn, keySize, time, validity);
    }

    private static byte[] pem(Object o) throws SigningException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o instanceof java.security.PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null)
                    : o);
        } catch (IOException e) {
            throw new SigningException("cannot encode PEM: " + e.getMessage(), e);
        }
        return w.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
