package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.NaclCosignKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cosign key files checked against an independent implementation of the envelope (libsodium, hashlib.scrypt). */
class CosignKeyNaclIT {
    static PrivateKey key;
    NaclCosignKeys nacl;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        key = g.generateKeyPair().getPrivate();
    }

    @BeforeEach
    void oracle() {
        nacl = NaclCosignKeys.require(dir);
    }

    @Test
    void naclMadeKeyLoadsInCairn() throws Exception {
        Path keyFile = dir.resolve("cosign.key");
        nacl.encrypt(key.getEncoded(), "pä ss", keyFile);
        PrivateKey back = KeyLoader.loadPrivateKey(keyFile, Secret.ofEnvironment("P", Map.of("P", "pä ss")));
        assertThat(back.getEncoded()).isEqualTo(key.getEncoded());
    }

    @Test
    void cairnMadeKeyDecryptsWithNacl() throws Exception {
        Path keyFile = Files.writeString(dir.resolve("cosign.key"), CosignKeyFile.encrypt(key, "pä ss".toCharArray(), new SecureRandom()));
        Path out = dir.resolve("out.der");
        nacl.decrypt(keyFile, "pä ss", out).assertExit(0);
        assertThat(Files.readAllBytes(out)).isEqualTo(key.getEncoded());
        // A wrong password fails in libsodium too: the check is the envelope's, not cairn's.
        assertThat(nacl.decrypt(keyFile, "other", dir.resolve("no.der")).exitCode()).isNotZero();
    }
}
