package dev.cairn.signing;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Loads keys and certificates from files: PEM (PKCS#8, encrypted PKCS#8, traditional RSA/EC,
 * encrypted or not), DER PKCS#8, and PKCS#12. Every failure is a {@link SigningException} that
 * names the file but never a passphrase.
 */
public final class KeyLoader {
    /**
     * Bouncy Castle as a provider instance (not installed globally): PBES2 key decryption needs it.
     * Created on first use only: registering Bouncy Castle's algorithms costs a noticeable part of a short run.
     */
    private static final class Bc {
        static final java.security.Provider PROVIDER = new org.bouncycastle.jce.provider.BouncyCastleProvider();
    }

    /** The Bouncy Castle provider instance cairn uses (not registered globally). */
    static java.security.Provider bouncyCastle() {
        return Bc.PROVIDER;
    }

    private KeyLoader() {
    }

    /** A private key from a PEM or DER file, decrypted with {@code pass} when it is encrypted. */
    public static PrivateKey loadPrivateKey(Path file, Secret pass) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.US_ASCII);
        try {
            if (!text.contains("-----BEGIN")) {
                return pkcs8(bytes);
            }
            if (CosignKeyFile.isCosignKey(text)) {
                return CosignKeyFile.read(file, pass);
            }
            byte[] pkcs8 = firstUnencryptedPkcs8(text);
            if (pkcs8 != null) {
                return pkcs8(pkcs8);
            }
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            try (Reader r = new StringReader(text); PEMParser parser = new PEMParser(r)) {
                Object o;
                while ((o = parser.readObject()) != null) {
                    if (o instanceof PEMKeyPair kp) {
                        return converter.getKeyPair(kp).getPrivate();
                    }
                    if (o instanceof PrivateKeyInfo pki) {
                        return converter.getPrivateKey(pki);
                    }
                    // Decrypted with the JDK's own ciphers first: Bouncy Castle is only a fallback for schemes
                    // the JDK lacks (cairn ships BC unsigned, which JDKs that vet cipher providers refuse).
                    if (o instanceof PEMEncryptedKeyPair ekp) {
                        char[] p = requirePass(pass, file);
                        try {
                            return converter.getKeyPair(ekp.decryptKeyPair(new JcePEMDecryptorProviderBuilder().build(p))).getPrivate();
                        } catch (org.bouncycastle.openssl.PEMException | RuntimeException e) {
                            return converter.getKeyPair(ekp.decryptKeyPair(new JcePEMDecryptorProviderBuilder()
                                    .setProvider(Bc.PROVIDER).build(p))).getPrivate();
                        }
                    }
                    if (o instanceof PKCS8EncryptedPrivateKeyInfo epki) {
                        char[] p = requirePass(pass, file);
                        PrivateKeyInfo jdk = decryptWithJdk(epki, p);
                        return converter.getPrivateKey(jdk != null ? jdk : epki.decryptPrivateKeyInfo(
                                new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(Bc.PROVIDER).build(p)));
                    }
                }
            }
            throw new SigningException(file + ": no private key found (expected PEM or DER PKCS#8, or a traditional RSA/EC key)");
        } catch (SigningException e) {
            throw e;
        } catch (org.bouncycastle.openssl.EncryptionException | PKCSException e) {
            throw new SigningException(file + ": cannot decrypt the private key (wrong passphrase?)");
        } catch (OperatorCreationException | IllegalArgumentException | ClassCastException | IOException e) {
            throw new SigningException(file + ": not a readable private key (" + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * An unencrypted PKCS#8 key: an RSA or EC one straight from the JDK's key factories (which
     * refuse the other algorithm's OID), anything else through Bouncy Castle's converter, which
     * ends in the JDK's factory for that algorithm too. The key objects are the same either way;
     * the converter's set-up and Bouncy Castle's ASN.1 parse cost some 15-30 ms of a signing
     * command's start.
     */
    static PrivateKey pkcs8(byte[] der) throws IOException {
        java.security.spec.PKCS8EncodedKeySpec spec = new java.security.spec.PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC"}) {
            try {
                return java.security.KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException | RuntimeException e) {
                // another algorithm, or an encoding only Bouncy Castle reads: it decides below
            }
        }
        return new JcaPEMKeyConverter().getPrivateKey(PrivateKeyInfo.getInstance(der));
    }

    /**
     * The DER of the file's first PEM block when that is an unencrypted PKCS#8 {@code PRIVATE KEY}
     * (what openssl genpkey and req -newkey write, and the kernel's signing_key.pem), else null (the
     * PEM parser then reads the file, as for any other block). Read here because Bouncy Castle's
     * PEM reader sets up java.util.logging when it loads, and the JDK then searches every jar of
     * the class path for a logger service: tens of milliseconds of each signing command.
     */
    static byte[] firstUnencryptedPkcs8(String text) {
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int first = text.indexOf("-----BEGIN ");
        if (first < 0 || !text.startsWith(begin, first)) {
            return null;
        }
        int to = text.indexOf(end, first + begin.length());
        if (to < 0) {
            return null;
        }
        StringBuilder b64 = new StringBuilder(to - first);
        for (int i = first + begin.length(); i < to; i++) {
            char c = text.charAt(i);
            if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
                b64.append(c);
            }
        }
        return java.util.Base64.getDecoder().decode(b64.toString()); // IllegalArgumentException: not a readable key
    }

    /** PKCS#8 decryption with the JDK's PBE/PBES2 support, or null when the JDK cannot do this scheme. */
    private static PrivateKeyInfo decryptWithJdk(PKCS8EncryptedPrivateKeyInfo epki, char[] pass) throws IOException {
        try {
            javax.crypto.EncryptedPrivateKeyInfo info = new javax.crypto.EncryptedPrivateKeyInfo(epki.getEncoded());
            javax.crypto.SecretKeyFactory f = javax.crypto.SecretKeyFactory.getInstance(info.getAlgName());
            javax.crypto.Cipher c = javax.crypto.Cipher.getInstance(info.getAlgName());
            c.init(javax.crypto.Cipher.DECRYPT_MODE, f.generateSecret(new javax.crypto.spec.PBEKeySpec(pass)), info.getAlgParameters());
            return PrivateKeyInfo.getInstance(info.getKeySpec(c).getEncoded());
        } catch (java.security.InvalidKeyException | java.security.spec.InvalidKeySpecException e) {
            throw new org.bouncycastle.openssl.EncryptionException("wrong passphrase", e);
        } catch (java.security.GeneralSecurityException | IOException | RuntimeException e) {
            return null; // a scheme or encoding the JDK does not take: Bouncy Castle's turn
        }
    }

    private static char[] requirePass(Secret pass, Path file) throws SigningException {
        if (pass == null) {
            throw new SigningException(file + ": the private key is encrypted; give its passphrase with"
                    + " --key-pass-env, --key-pass-file or --key-pass-stdin");
        }
        return pass.chars();
    }

    /**
     * A public key from a PEM file ({@code BEGIN PUBLIC KEY}, i.e. SubjectPublicKeyInfo, or
     * {@code BEGIN RSA PUBLIC KEY}) or a DER SubjectPublicKeyInfo, as systemd-measure's
     * {@code --public-key=} takes it.
     */
    public static PublicKey loadPublicKey(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.US_ASCII);
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (!text.contains("-----BEGIN")) {
                return converter.getPublicKey(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(bytes));
            }
            try (Reader r = new StringReader(text); PEMParser parser = new PEMParser(r)) {
                Object o;
                while ((o = parser.readObject()) != null) {
                    if (o instanceof org.bouncycastle.asn1.x509.SubjectPublicKeyInfo spki) {
                        return converter.getPublicKey(spki);
                    }
                }
            }
            throw new SigningException(file + ": no public key found (expected PEM \"BEGIN PUBLIC KEY\" or DER SubjectPublicKeyInfo)");
        } catch (SigningException e) {
            throw e;
        } catch (IllegalArgumentException | ClassCastException | IOException e) {
            throw new SigningException(file + ": not a readable public key (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Every certificate in a PEM or DER file, in file order. */
    public static List<X509Certificate> loadCertificates(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new SigningException(file + ": no certificate found");
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new SigningException(file + ": not a readable X.509 certificate");
        }
    }

    /** Key and certificate files; refuses a certificate that does not belong to the key. */
    public static KeyMaterial fromFiles(Path keyFile, Path certFile, Secret pass) throws IOException {
        PrivateKey key = loadPrivateKey(keyFile, pass);
        List<X509Certificate> certs = loadCertificates(certFile);
        KeyMaterial km = new KeyMaterial(key, certs.get(0), certs, null, keyFile.toString());
        requireMatch(km);
        return km;
    }

    /** The (first, or named) key entry of a PKCS#12 file. */
    public static KeyMaterial fromPkcs12(Path file, Secret pass, String alias) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            char[] p = pass == null ? new char[0] : pass.chars();
            try {
                ks.load(in, p);
            } catch (IOException e) {
                throw new SigningException(file + ": cannot open the PKCS#12 file (wrong passphrase?)");
            }
            String name = alias;
            if (name == null) {
                for (String a : Collections.list(ks.aliases())) {
                    if (ks.isKeyEntry(a)) {
                        name = a;
                        break;
                    }
                }
            }
            if (name == null || !ks.isKeyEntry(name)) {
                throw new SigningException(file + ": no private key entry" + (alias == null ? "" : " named " + alias));
            }
            PrivateKey key = (PrivateKey) ks.getKey(name, p);
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : ks.getCertificateChain(name)) {
                chain.add((X509Certificate) c);
            }
            KeyMaterial km = new KeyMaterial(key, chain.get(0), chain, null, file + ":" + name);
            requireMatch(km);
            return km;
        } catch (GeneralSecurityException e) {
            throw new SigningException(file + ": cannot read the PKCS#12 key (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Signs a random challenge and checks it with the certificate's public key (works for token keys too). */
    public static void requireMatch(KeyMaterial km) throws SigningException {
        PublicKey pub = km.certificate().getPublicKey();
        String alg = switch (pub.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> throw new SigningException("unsupported key type " + pub.getAlgorithm() + " (use RSA or EC)");
        };
        if (km.provider() == null && km.key() instanceof java.security.interfaces.RSAPrivateCrtKey k
                && pub instanceof java.security.interfaces.RSAPublicKey rsa) {
            // a software RSA key carries its public half: compare it instead of a trial signature (a cold
            // JVM spends some 30 ms in BigInteger on one); p·q = n checks the key's own consistency
            if (!k.getModulus().equals(rsa.getModulus()) || !k.getPublicExponent().equals(rsa.getPublicExponent())) {
                throw new SigningException("the certificate " + km.certificate().getSubjectX500Principal()
                        + " does not belong to the key " + km.description());
            }
            if (!k.getPrimeP().multiply(k.getPrimeQ()).equals(k.getModulus())) {
                throw new SigningException("the RSA key " + km.description() + " is inconsistent (p·q ≠ n)");
            }
            return;
        }
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        try {
            Signature s = km.provider() == null ? Signature.getInstance(alg) : Signature.getInstance(alg, km.provider());
            s.initSign(km.key());
            s.update(challenge);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(challenge);
            if (!v.verify(sig)) {
                throw new SigningException("the certificate " + km.certificate().getSubjectX500Principal()
                        + " does not belong to the key " + km.description());
            }
        } catch (java.security.InvalidKeyException e) {
            throw new SigningException("the certificate " + km.certificate().getSubjectX500Principal()
                    + " does not match the type of the key " + km.description());
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot sign with " + km.description() + ": " + e.getMessage(), e);
        }
    }

    /** Warnings for a certificate that is expired or not yet valid at {@code now} (empty when fine). */
    public static List<String> validityWarnings(X509Certificate cert, Instant now) {
        try {
            cert.checkValidity(Date.from(now));
            return List.of();
        } catch (CertificateExpiredException e) {
            return List.of("certificate " + cert.getSubjectX500Principal() + " expired on " + cert.getNotAfter().toInstant());
        } catch (CertificateNotYetValidException e) {
            return List.of("certificate " + cert.getSubjectX500Principal() + " is not valid before "
                    + cert.getNotBefore().toInstant());
        }
    }
}
