package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cosign key files checked against an independent implementation of go-securesystemslib's envelope:
 * libsodium's secretbox (python3-nacl) and Python's hashlib.scrypt.
 */
class CosignKeyNaclIT {
    /** Encrypts the PKCS#8 DER in argv[1] with the password on standard input into a cosign.key at argv[2]. */
    static final String ENCRYPT = """
            import base64, hashlib, json, os, sys
            from nacl.secret import SecretBox
            der = open(sys.argv[1], 'rb').read()
            salt, nonce = os.urandom(32), os.urandom(24)
            key = hashlib.scrypt(sys.stdin.buffer.read(), salt=salt, n=65536, r=8, p=1, maxmem=128 * 1024 * 1024, dklen=32)
            box = SecretBox(key).encrypt(der, nonce).ciphertext
            env = {"kdf": {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
                   "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
                   "ciphertext": base64.b64encode(box).decode()}
            body = base64.b64encode(json.dumps(env, separators=(',', ':')).encode()).decode()
            lines = [body[i:i + 64] for i in range(0, len(body), 64)]
            open(sys.argv[2], 'w').write('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\\n' + '\\n'.join(lines)
                                         + '\\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\\n')
            """;
    /** Decrypts the cosign.key in argv[1] with the password on standard input and writes the PKCS#8 DER to argv[2]. */
    static final String DECRYPT = """
            import base64, hashlib, json, os, sys
            from nacl.secret import SecretBox
            text = open(sys.argv[1]).read()
            body = ''.join(l for l in text.splitlines() if not l.startswith('-----'))
            env = json.loads(base64.b64decode(body))
            assert env['kdf']['name'] == 'scrypt' and env['cipher']['name'] == 'nacl/secretbox'
            p = env['kdf']['params']
            key = hashlib.scrypt(sys.stdin.buffer.read(), salt=base64.b64decode(env['kdf']['salt']), n=p['N'], r=p['r'],
                                 p=p['p'], maxmem=256 * 1024 * 1024, dklen=32)
            der = SecretBox(key).decrypt(base64.b64decode(env['ciphertext']), base64.b64decode(env['cipher']['nonce']))
            open(sys.argv[2], 'wb').write(der)
            """;

    static ToolOracle python;
    static PrivateKey key;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() throws Exception {
        python = ToolOracle.requireAt(Path.of("/usr/bin/python3"), "python3"); // Debian's, where python3-nacl is
        ToolOracle.requireFile(Path.of("/usr/lib/python3/dist-packages/nacl/secret.py"), "python3-nacl");
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        key = g.generateKeyPair().getPrivate();
    }

    /** Runs a script with the password on standard input (never in argv). */
    private ToolOracle.Result py(String script, String password, String... args) throws Exception {
        Path s = Files.writeString(dir.resolve("s.py"), script);
        List<String> cmd = new java.util.ArrayList<>(List.of(s.toString()));
        cmd.addAll(List.of(args));
        return python.run(Duration.ofMinutes(2), dir, cmd, password.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void naclMadeKeyLoadsInCairn() throws Exception {
        Path der = Files.write(dir.resolve("key.der"), key.getEncoded());
        Path keyFile = dir.resolve("cosign.key");
        py(ENCRYPT, "pä ss", der.toString(), keyFile.toString()).assertExit(0);
        PrivateKey back = KeyLoader.loadPrivateKey(keyFile, Secret.ofEnvironment("P", Map.of("P", "pä ss")));
        assertThat(back.getEncoded()).isEqualTo(key.getEncoded());
    }

    @Test
    void cairnMadeKeyDecryptsWithNacl() throws Exception {
        Path keyFile = Files.writeString(dir.resolve("cosign.key"), CosignKeyFile.encrypt(key, "pä ss".toCharArray(), new SecureRandom()));
        Path out = dir.resolve("out.der");
        py(DECRYPT, "pä ss", keyFile.toString(), out.toString()).assertExit(0);
        assertThat(Files.readAllBytes(out)).isEqualTo(key.getEncoded());
        // A wrong password fails in libsodium too: the check is the envelope's, not cairn's.
        assertThat(py(DECRYPT, "other", keyFile.toString(), dir.resolve("no.der").toString()).exitCode()).isNotZero();
    }
}
