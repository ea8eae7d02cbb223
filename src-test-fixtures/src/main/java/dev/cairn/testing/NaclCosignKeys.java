package dev.cairn.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An independent implementation of cosign's key file envelope (go-securesystemslib's scrypt +
 * NaCl secretbox JSON in PEM {@code ENCRYPTED SIGSTORE PRIVATE KEY}): libsodium through Debian's
 * python3-nacl, and Python's hashlib.scrypt. Passwords go to the scripts on standard input, never
 * in argv.
 */
public final class NaclCosignKeys {
    private static final String ENCRYPT = """
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
    private static final String DECRYPT = """
            import base64, hashlib, json, sys
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

    private final ToolOracle python;
    private final Path work;

    private NaclCosignKeys(ToolOracle python, Path work) {
        this.python = python;
        this.work = work;
    }

    /** The oracle (Debian's python3 with python3-nacl), working in {@code work}; skips or fails (CI) when missing. */
    public static NaclCosignKeys require(Path work) {
        ToolOracle python = ToolOracle.requireAt(Path.of("/usr/bin/python3"), "python3");
        ToolOracle.requireFile(Path.of("/usr/lib/python3/dist-packages/nacl/secret.py"), "python3-nacl");
        return new NaclCosignKeys(python, work);
    }

    /** Encrypts PKCS#8 DER {@code pkcs8} into a cosign key file at {@code keyFile}. */
    public void encrypt(byte[] pkcs8, String password, Path keyFile) throws IOException {
        Path der = Files.write(work.resolve("nacl-in.der"), pkcs8);
        run(ENCRYPT, password, der, keyFile).assertExit(0);
        Files.delete(der);
    }

    /** The PKCS#8 DER inside {@code keyFile}; fails (the script's exit code) when the password is wrong. */
    public ToolOracle.Result decrypt(Path keyFile, String password, Path derOut) throws IOException {
        return run(DECRYPT, password, keyFile, derOut);
    }

    private ToolOracle.Result run(String script, String password, Path in, Path out) throws IOException {
        Path s = Files.writeString(work.resolve("nacl-cosign.py"), script);
        return python.run(Duration.ofMinutes(2), work, List.of(s.toString(), in.toString(), out.toString()),
                password.getBytes(StandardCharsets.UTF_8));
    }
}
