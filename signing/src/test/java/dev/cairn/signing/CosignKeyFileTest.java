package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CosignKeyFileTest {
    static KeyPair ec;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom(new byte[] {1}));
        ec = g.generateKeyPair();
    }

    static Secret secret(String s) throws Exception {
        return Secret.ofEnvironment("P", Map.of("P", s));
    }

    @Test
    void secretboxMatchesTheNaclTestVector() {
        // The classic NaCl crypto_secretbox vector (tests/secretbox.c in NaCl; libsodium's test/default/secretbox.c):
        // key "firstkey", nonce "nonce", 131-byte message, 147-byte box (16-byte tag first).
        HexFormat hex = HexFormat.of();
        byte[] key = hex.parseHex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
        byte[] nonce = hex.parseHex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
        byte[] m = hex.parseHex("be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc"
                + "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31"
                + "0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde"
                + "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
                + "5e0705");
        byte[] tag = hex.parseHex("f3ffc7703f9400e52a7dfb4b3d3305d9");
        byte[] c = hex.parseHex("8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a"
                + "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738"
                + "b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da"
                + "99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74"
                + "e355a5");
        byte[] box = CosignKeyFile.seal(key, nonce, m);
        assertThat(java.util.Arrays.copyOf(box, 16)).isEqualTo(tag);
        assertThat(java.util.Arrays.copyOfRange(box, 16, box.length)).isEqualTo(c);
        assertThat(CosignKeyFile.open(key, nonce, box)).isEqualTo(m);
        box[20] ^= 1;
        assertThat(CosignKeyFile.open(key, nonce, box)).isNull();
    }

    @Test
    void roundTripsAndLoadsThroughKeyLoader() throws Exception {
        String pem = CosignKeyFile.encrypt(ec.getPrivate(), "s3cret".toCharArray(), new SecureRandom());
        assertThat(pem).startsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n").endsWith("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
        String json = new String(Base64.getMimeDecoder().decode(pem.lines().filter(l -> !l.startsWith("-----"))
                .reduce("", String::concat)), StandardCharsets.UTF_8);
        assertThat(json).startsWith("{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"")
                .contains("\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"").contains("\"ciphertext\":\"");
        Path file = Files.writeString(dir.resolve("cosign.key"), pem);
        PrivateKey back = KeyLoader.loadPrivateKey(file, secret("s3cret"));
        assertThat(back.getEncoded()).isEqualTo(ec.getPrivate().getEncoded());
        Path legacy = Files.writeString(dir.resolve("legacy.key"), pem.replace("SIGSTORE", "COSIGN"));
        assertThat(KeyLoader.loadPrivateKey(legacy, secret("s3cret")).getEncoded()).isEqualTo(ec.getPrivate().getEncoded());
    }

    @Test
    void wrongOrMissingPasswordIsRefusedWithoutRevealingIt() throws Exception {
        Path file = Files.writeString(dir.resolve("cosign.key"),
                CosignKeyFile.encrypt(ec.getPrivate(), "right-password".toCharArray(), new SecureRandom()));
        assertThatThrownBy(() -> KeyLoader.loadPrivateKey(file, secret("wrong-password")))
                .isInstanceOf(SigningException.class).hasMessageContaining("wrong password")
                .hasMessageNotContaining("wrong-password").hasMessageNotContaining("right-password");
        assertThatThrownBy(() -> KeyLoader.loadPrivateKey(file, null))
                .isInstanceOf(SigningException.class).hasMessageContaining("COSIGN_PASSWORD");
    }

    @Test
    void refusesCostlyOrForeignParametersAndDamagedEnvelopes() throws Exception {
        ObjectMapper m = new ObjectMapper();
        String pem = CosignKeyFile.encrypt(ec.getPrivate(), new char[0], new SecureRandom());
        byte[] body = Base64.getMimeDecoder().decode(pem.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat));
        ObjectNode good = (ObjectNode) m.readTree(body);
        // The empty password (cosign allows it) works.
        assertThat(CosignKeyFile.decrypt(body, new char[0], "k")).isEqualTo(ec.getPrivate().getEncoded());

        ObjectNode big = good.deepCopy();
        ((ObjectNode) big.path("kdf").path("params")).put("N", 1 << 30);
        assertThatThrownBy(() -> CosignKeyFile.decrypt(m.writeValueAsBytes(big), new char[0], "k"))
                .hasMessageContaining("unsupported scrypt parameters N=1073741824");
        ObjectNode aes = good.deepCopy();
        ((ObjectNode) aes.path("cipher")).put("name", "aes-gcm");
        assertThatThrownBy(() -> CosignKeyFile.decrypt(m.writeValueAsBytes(aes), new char[0], "k"))
                .hasMessageContaining("unsupported cosign key encryption");
        ObjectNode shortNonce = good.deepCopy();
        ((ObjectNode) shortNonce.path("cipher")).put("nonce", "AAAA");
        assertThatThrownBy(() -> CosignKeyFile.decrypt(m.writeValueAsBytes(shortNonce), new char[0], "k"))
                .hasMessageContaining("nonce is 3 bytes");
        ObjectNode tiny = good.deepCopy();
        tiny.put("ciphertext", "AAAA");
        assertThatThrownBy(() -> CosignKeyFile.decrypt(m.writeValueAsBytes(tiny), new char[0], "k"))
                .hasMessageContaining("shorter than its authentication tag");
        ObjectNode noSalt = good.deepCopy();
        ((ObjectNode) noSalt.path("kdf")).remove("salt");
        assertThatThrownBy(() -> CosignKeyFile.decrypt(m.writeValueAsBytes(noSalt), new char[0], "k"))
                .hasMessageContaining("has no salt");
        assertThatThrownBy(() -> CosignKeyFile.decrypt("[1,2".getBytes(StandardCharsets.US_ASCII), new char[0], "k"))
                .hasMessageContaining("not JSON");
        Path truncated = Files.writeString(dir.resolve("t.key"), pem.substring(0, pem.indexOf("-----END")));
        assertThatThrownBy(() -> KeyLoader.loadPrivateKey(truncated, secret(""))).hasMessageContaining("no END line");
    }
}
