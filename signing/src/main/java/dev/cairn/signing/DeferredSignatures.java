package dev.cairn.signing;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Signatures made elsewhere: a signing station (an HSM, an offline machine) signs the bytes a
 * build asks for, and the build puts the answers where its own key would have put its signatures.
 *
 * <p>{@link #key} gives a {@link KeyMaterial} with the real certificate and a private key that is
 * only a handle: every signer in this module signs through {@link KeyMaterial#provider()}, and this
 * provider answers a signature over bytes {@code D} with the signature {@link #provide provided}
 * for (certificate, algorithm, SHA-256 of {@code D}) when there is one, and otherwise records
 * {@code D} as {@link Pending} and answers a placeholder (zero bytes: the artifact is not signed
 * yet and never verifies). Because every signature cairn makes is over deterministic bytes, and RSA
 * PKCS#1 v1.5 is deterministic, a build run again with every answer provided writes the very bytes
 * a build holding the keys writes.
 *
 * <p>Not thread-safe: one build at a time uses one instance.
 */
public final class DeferredSignatures {
    /**
     * A signature the build asked for and did not get.
     *
     * @param role        the key role the caller named in {@link #key}
     * @param certificate the certificate whose key must sign
     * @param algorithm   JCA name of the signature: {@code SHA256withRSA} (RSASSA-PKCS1-v1_5), {@code SHA256withECDSA}, ...
     * @param data        the exact bytes to sign (the signature algorithm hashes them)
     * @param label       what the caller said it was signing ({@link #label}), or "" when it said nothing
     */
    public record Pending(String role, X509Certificate certificate, String algorithm, byte[] data, String label) {
        public String dataSha256() {
            return sha256Hex(data);
        }
    }

    /** Signature algorithms the provider answers (those cairn's signers ask for). */
    public static final List<String> ALGORITHMS = List.of("SHA256withRSA", "SHA384withRSA", "SHA512withRSA", "SHA256withECDSA",
            "SHA384withECDSA", "SHA512withECDSA");

    private final Map<String, byte[]> answers = new TreeMap<>();
    private final List<Pending> pending = new ArrayList<>();
    private final Provider provider = new DeferredProvider();
    private String label = "";

    /** A key of {@code role} that signs through this instance; {@code chain} leaf first (may be empty). */
    public KeyMaterial key(String role, X509Certificate certificate, List<X509Certificate> chain) {
        Objects.requireNonNull(role, "role");
        return new KeyMaterial(new Handle(role, certificate), certificate, chain, provider, "deferred " + role + " key ("
                + certificate.getSubjectX500Principal().getName() + ", signed elsewhere)");
    }

    /** Whether {@code km} signs through a {@link DeferredSignatures} (a key held by a signing station). */
    public static boolean isDeferred(KeyMaterial km) {
        return km != null && km.key() instanceof Handle;
    }

    /** What the next signatures are, for the station's display ("IPE policy", "Authenticode of x.efi"). */
    public void label(String what) {
        this.label = what == null ? "" : what;
    }

    /**
     * An answer from the station: {@code signature} by {@code certificate}'s key over bytes whose
     * SHA-256 is {@code dataSha256}. It is checked here, against the certificate's public key; a
     * signature that does not verify is refused.
     *
     * @param data the bytes that were signed (the request carries them)
     */
    public void provide(X509Certificate certificate, String algorithm, byte[] data, byte[] signature) throws SigningException {
        if (!ALGORITHMS.contains(algorithm)) {
            throw new SigningException("unsupported signature algorithm " + algorithm);
        }
        if (!verify(certificate.getPublicKey(), algorithm, data, signature)) {
            throw new SigningException("the signature does not verify with " + certificate.getSubjectX500Principal().getName()
                    + " over the requested bytes (sha256:" + sha256Hex(data) + ")");
        }
        answers.put(answerKey(certificate, algorithm, sha256Hex(data)), signature.clone());
    }

    /** The signatures asked for and not provided, in the order they were asked for. */
    public List<Pending> pending() {
        return List.copyOf(pending);
    }

    /** How many signatures were answered with a placeholder so far. */
    public int placeholders() {
        return pending.size();
    }

    /** Whether {@code signature} is {@code publicKey}'s over {@code data} with {@code algorithm}; malformed signatures are false. */
    public static boolean verify(PublicKey publicKey, String algorithm, byte[] data, byte[] signature) throws SigningException {
        try {
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(publicKey);
            v.update(data);
            return v.verify(signature);
        } catch (SignatureException | InvalidKeyException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new SigningException("cannot verify a " + algorithm + " signature: " + e.getMessage(), e);
        }
    }

    /** The JCA algorithm a key of {@code publicKey}'s type uses with SHA-256 (what the station is asked for). */
    public static String sha256Algorithm(PublicKey publicKey) throws SigningException {
        return RawSignature.algorithm(publicKey.getAlgorithm());
    }

    static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing", e);
        }
    }

    private static String answerKey(X509Certificate cert, String algorithm, String dataSha256) throws SigningException {
        return CmsSigner.fingerprint(cert) + " " + algorithm.toUpperCase(Locale.ROOT) + " " + dataSha256;
    }

    private byte[] answer(Handle h, String algorithm, byte[] data) throws SignatureException {
        try {
            byte[] a = answers.get(answerKey(h.certificate, algorithm, sha256Hex(data)));
            if (a != null) {
                return a.clone();
            }
        } catch (SigningException e) {
            throw new SignatureException(e.getMessage(), e);
        }
        pending.add(new Pending(h.role, h.certificate, canonical(algorithm), data, label));
        PublicKey pub = h.certificate.getPublicKey();
        int size = pub instanceof RSAPublicKey rsa ? (rsa.getModulus().bitLength() + 7) / 8 : 72;
        return new byte[size];
    }

    private static String canonical(String algorithm) {
        for (String a : ALGORITHMS) {
            if (a.equalsIgnoreCase(algorithm)) {
                return a;
            }
        }
        return algorithm;
    }

    /** The private half of a deferred key: a handle, no key material; never serialized. */
    private static final class Handle implements PrivateKey {
        private static final long serialVersionUID = 1L;
        private final String role;
        private final transient X509Certificate certificate;

        Handle(String role, X509Certificate certificate) {
            this.role = role;
            this.certificate = Objects.requireNonNull(certificate, "certificate");
        }

        @Override
        public String getAlgorithm() {
            return certificate.getPublicKey().getAlgorithm();
        }

        @Override
        public String getFormat() {
            return null;
        }

        @Override
        public byte[] getEncoded() {
            return null;
        }

        private Object writeReplace() throws java.io.ObjectStreamException {
            throw new java.io.NotSerializableException("a deferred key handle");
        }
    }

    private final class DeferredProvider extends Provider {
        private static final long serialVersionUID = 1L;

        DeferredProvider() {
            super("CairnDeferred", "1.0", "signatures made by a signing station");
            for (String alg : ALGORITHMS) {
                putService(new Service(this, "Signature", alg, Spi.class.getName(), List.of(alg.toUpperCase(Locale.ROOT)), Map.of()) {
                    @Override
                    public Object newInstance(Object constructorParameter) {
                        return new Spi(alg);
                    }
                });
            }
        }
    }

    private final class Spi extends SignatureSpi {
        private final String algorithm;
        private final ByteArrayOutputStream data = new ByteArrayOutputStream();
        private Handle handle;

        Spi(String algorithm) {
            this.algorithm = algorithm;
        }

        @Override
        protected void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
            throw new InvalidKeyException("a deferred key only signs");
        }

        @Override
        protected void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
            if (!(privateKey instanceof Handle h)) {
                throw new InvalidKeyException("not a deferred key");
            }
            handle = h;
            data.reset();
        }

        @Override
        protected void engineUpdate(byte b) {
            data.write(b);
        }

        @Override
        protected void engineUpdate(byte[] b, int off, int len) {
            data.write(b, off, len);
        }

        @Override
        protected byte[] engineSign() throws SignatureException {
            if (handle == null) {
                throw new SignatureException("not initialised for signing");
            }
            byte[] d = data.toByteArray();
            data.reset();
            return answer(handle, algorithm, d);
        }

        @Override
        protected boolean engineVerify(byte[] sigBytes) throws SignatureException {
            throw new SignatureException("a deferred key only signs");
        }

        @Override
        @Deprecated
        protected void engineSetParameter(String param, Object value) {
            throw new InvalidParameterException("no parameters");
        }

        @Override
        @Deprecated
        protected Object engineGetParameter(String param) {
            throw new InvalidParameterException("no parameters");
        }
    }
}
