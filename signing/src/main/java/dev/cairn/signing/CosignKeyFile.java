package dev.cairn.signing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.generators.SCrypt;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * cosign's encrypted private key file ({@code cosign.key}): PEM {@code ENCRYPTED SIGSTORE PRIVATE KEY}
 * (or the legacy {@code ENCRYPTED COSIGN PRIVATE KEY}) whose body is go-securesystemslib's JSON
 * envelope: scrypt key derivation and a NaCl secretbox (XSalsa20 + Poly1305, tag first) around the
 * PKCS#8 DER of the key.
 *
 * <p>Only the scrypt parameters go-securesystemslib accepts are read ({@code N} = 2^15, 2^16 or 2^17
 * with {@code r = 8, p = 1}): a file cannot make cairn spend unbounded memory or time deriving its key.
 */
public final class CosignKeyFile {
    public static final String PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY";
    static final String LEGACY_PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY";
    /** What go-securesystemslib's {@code Encrypt} writes (its "standard" parameters). */
    static final int WRITE_N = 65536;
    private static final int R = 8;
    private static final int P = 1;
    private static final int KEY_BYTES = 32;
    private static final int SALT_BYTES = 32;
    private static final int NONCE_BYTES = 24;
    private static final int TAG_BYTES = 16;
    /** A PKCS#8 key of any algorithm cosign supports is far smaller; a larger body is not a key file. */
    private static final int MAX_FILE_BYTES = 64 * 1024;

    /**
     * Made when a cosign key is read or written, not when this class loads: {@link #isCosignKey}
     * runs for every key file, and a Jackson ObjectMapper (with its date formats, calendars and
     * locale data) costs a signing command tens of milliseconds of start-up.
     */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();

        private Json() {
        }
    }

    private CosignKeyFile() {
    }

    /** True when {@code text} holds a cosign encrypted key (either PEM type). */
    public static boolean isCosignKey(String text) {
        return text.contains("-----BEGIN " + PEM_TYPE + "-----") || text.contains("-----BEGIN " + LEGACY_PEM_TYPE + "-----");
    }

    /** Reads and decrypts {@code file}. A wrong password is a {@link SigningException} that names the file, never the password. */
    public static PrivateKey read(Path file, Secret password) throws IOException {
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new SigningException(file + ": too large for a cosign key file (" + Files.size(file) + " bytes)");
        }
        String text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
        if (password == null) {
            throw new SigningException(file + ": a cosign key is encrypted; give its password with COSIGN_PASSWORD"
                    + " (as cosign), --key-pass-env, --key-pass-file or --key-pass-stdin");
        }
        byte[] der = decrypt(pemBody(text, file), password.chars(), file.toString());
        try {
            return new JcaPEMKeyConverter().getPrivateKey(PrivateKeyInfo.getInstance(der));
        } catch (IllegalArgumentException | IOException e) {
            throw new SigningException(file + ": the decrypted cosign key is not a PKCS#8 private key");
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /** The PKCS#8 DER inside an envelope (the PEM body, base64-decoded). */
    static byte[] decrypt(byte[] envelope, char[] password, String name) throws SigningException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(envelope);
        } catch (IOException e) {
            throw new SigningException(name + ": the cosign key's body is not JSON");
        }
        String kdf = root.path("kdf").path("name").asText("");
        String cipher = root.path("cipher").path("name").asText("");
        if (!kdf.equals("scrypt") || !cipher.equals("nacl/secretbox")) {
            throw new SigningException(name + ": unsupported cosign key encryption (kdf '" + kdf + "', cipher '" + cipher
                    + "'; expected scrypt and nacl/secretbox)");
        }
        JsonNode params = root.path("kdf").path("params");
        long n = params.path("N").asLong(-1);
        long r = params.path("r").asLong(-1);
        long p = params.path("p").asLong(-1);
        if (!(n == 32768 || n == 65536 || n == 131072) || r != R || p != P) {
            throw new SigningException(name + ": unsupported scrypt parameters N=" + n + ", r=" + r + ", p=" + p
                    + " (cosign writes N=65536, r=8, p=1)");
        }
        byte[] salt = base64(root.path("kdf").path("salt"), name, "salt");
        byte[] nonce = base64(root.path("cipher").path("nonce"), name, "nonce");
        byte[] box = base64(root.path("ciphertext"), name, "ciphertext");
        if (nonce.length != NONCE_BYTES) {
            throw new SigningException(name + ": the secretbox nonce is " + nonce.length + " bytes, expected " + NONCE_BYTES);
        }
        if (box.length < TAG_BYTES) {
            throw new SigningException(name + ": the ciphertext is shorter than its authentication tag");
        }
        byte[] key = scrypt(password, salt, (int) n);
        try {
            byte[] plain = open(key, nonce, box);
            if (plain == null) {
                throw new SigningException(name + ": cannot decrypt the cosign key (wrong password?)");
            }
            return plain;
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /**
     * Writes {@code key} encrypted under {@code password} as cosign does (fresh salt and nonce,
     * N=65536) and returns the PEM text. The envelope's field order is go-securesystemslib's.
     */
    public static String encrypt(PrivateKey key, char[] password, SecureRandom random) throws SigningException {
        byte[] der = key.getEncoded();
        if (der == null || !"PKCS#8".equals(key.getFormat())) {
            throw new SigningException("a cosign key file holds a software PKCS#8 key; this key cannot be exported");
        }
        byte[] salt = new byte[SALT_BYTES];
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(salt);
        random.nextBytes(nonce);
        byte[] k = scrypt(password, salt, WRITE_N);
        byte[] box;
        try {
            box = seal(k, nonce, der);
        } finally {
            Arrays.fill(k, (byte) 0);
            Arrays.fill(der, (byte) 0);
        }
        Base64.Encoder b64 = Base64.getEncoder();
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode kdf = root.putObject("kdf");
        kdf.put("name", "scrypt");
        ObjectNode params = kdf.putObject("params");
        params.put("N", WRITE_N);
        params.put("r", R);
        params.put("p", P);
        kdf.put("salt", b64.encodeToString(salt));
        ObjectNode cipher = root.putObject("cipher");
        cipher.put("name", "nacl/secretbox");
        cipher.put("nonce", b64.encodeToString(nonce));
        root.put("ciphertext", b64.encodeToString(box));
        byte[] body = root.toString().getBytes(StandardCharsets.UTF_8);
        return pem(PEM_TYPE, body);
    }

    static String pem(String type, byte[] body) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(body);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    private static byte[] pemBody(String text, Path file) throws SigningException {
        for (String type : new String[] {PEM_TYPE, LEGACY_PEM_TYPE}) {
            String begin = "-----BEGIN " + type + "-----";
            String end = "-----END " + type + "-----";
            int b = text.indexOf(begin);
            if (b < 0) {
                continue;
            }
            int e = text.indexOf(end, b);
            if (e < 0) {
                throw new SigningException(file + ": the cosign key's PEM block has no END line");
            }
            try {
                return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
            } catch (IllegalArgumentException ex) {
                throw new SigningException(file + ": the cosign key's PEM body is not base64");
            }
        }
        throw new SigningException(file + ": not a cosign key (expected PEM \"" + PEM_TYPE + "\")");
    }

    private static byte[] base64(JsonNode node, String name, String field) throws SigningException {
        if (!node.isTextual()) {
            throw new SigningException(name + ": the cosign key has no " + field);
        }
        try {
            return Base64.getDecoder().decode(node.asText());
        } catch (IllegalArgumentException e) {
            throw new SigningException(name + ": the cosign key's " + field + " is not base64");
        }
    }

    private static byte[] scrypt(char[] password, byte[] salt, int n) {
        byte[] pw = new String(password).getBytes(StandardCharsets.UTF_8);
        try {
            return SCrypt.generate(pw, salt, n, R, P, KEY_BYTES);
        } finally {
            Arrays.fill(pw, (byte) 0);
        }
    }

    /** NaCl {@code crypto_secretbox}: Poly1305 tag (keyed by the first 32 keystream bytes) ‖ XSalsa20 ciphertext. */
    static byte[] seal(byte[] key, byte[] nonce, byte[] plain) {
        XSalsa20Engine engine = start(key, nonce, true);
        byte[] polyKey = polyKey(engine);
        byte[] out = new byte[TAG_BYTES + plain.length];
        engine.processBytes(plain, 0, plain.length, out, TAG_BYTES);
        byte[] tag = mac(polyKey, out, TAG_BYTES, plain.length);
        System.arraycopy(tag, 0, out, 0, TAG_BYTES);
        Arrays.fill(polyKey, (byte) 0);
        return out;
    }

    /** The plaintext of a secretbox, or null when its tag does not verify. */
    static byte[] open(byte[] key, byte[] nonce, byte[] box) {
        XSalsa20Engine engine = start(key, nonce, false);
        byte[] polyKey = polyKey(engine);
        int len = box.length - TAG_BYTES;
        byte[] tag = mac(polyKey, box, TAG_BYTES, len);
        Arrays.fill(polyKey, (byte) 0);
        if (!MessageDigest.isEqual(tag, Arrays.copyOf(box, TAG_BYTES))) {
            return null;
        }
        byte[] plain = new byte[len];
        engine.processBytes(box, TAG_BYTES, len, plain, 0);
        return plain;
    }

    private static XSalsa20Engine start(byte[] key, byte[] nonce, boolean encrypt) {
        XSalsa20Engine engine = new XSalsa20Engine();
        engine.init(encrypt, new ParametersWithIV(new KeyParameter(key), nonce));
        return engine;
    }

    private static byte[] polyKey(XSalsa20Engine engine) {
        byte[] polyKey = new byte[32];
        engine.processBytes(new byte[32], 0, 32, polyKey, 0);
        return polyKey;
    }

    private static byte[] mac(byte[] polyKey, byte[] data, int off, int len) {
        Poly1305 poly = new Poly1305();
        poly.init(new KeyParameter(polyKey));
        poly.update(data, off, len);
        byte[] tag = new byte[TAG_BYTES];
        poly.doFinal(tag, 0);
        return tag;
    }

    /** The public half of {@code key} as cosign writes {@code cosign.pub}: PEM {@code PUBLIC KEY} (SubjectPublicKeyInfo). */
    public static String publicKeyPem(java.security.PublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }
}
