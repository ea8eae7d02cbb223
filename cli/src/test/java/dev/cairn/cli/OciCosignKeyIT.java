package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Digest;
import dev.cairn.oci.OciLayout;
import dev.cairn.testing.NaclCosignKeys;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cosign key pairs: {@code cairn keys cosign generate} against libsodium (python3-nacl), a key made by
 * that independent implementation used by {@code cairn oci sign --key} (cosign's keyed mode, no
 * certificate), the signature checked by OpenSSL with the public key and by {@code oci verify --key}.
 */
class OciCosignKeyIT {
    @TempDir
    Path dir;

    /** Runs cairn in-process with {@code COSIGN_PASSWORD} set (null: unset). */
    static MainTest.Run withPassword(String password, String... args) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove(KeyOptions.COSIGN_PASSWORD);
        if (password != null) {
            env.put(KeyOptions.COSIGN_PASSWORD, password);
        }
        Map<String, String> old = Environment.swap(env);
        try {
            return run(args);
        } finally {
            Environment.swap(old);
        }
    }

    @Test
    void generatedKeyDecryptsWithLibsodiumAndSignsAsCosign() throws Exception {
        NaclCosignKeys nacl = NaclCosignKeys.require(dir);
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path keys = Files.createDirectories(dir.resolve("keys"));
        MainTest.Run g = withPassword("correct horse", "keys", "cosign", "generate", "--dir", keys.toString());
        assertThat(g.code()).as(g.err()).isZero();
        Path key = keys.resolve("cosign.key");
        Path pub = keys.resolve("cosign.pub");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----");
        // libsodium opens it; the key inside is the one cosign.pub names
        Path der = dir.resolve("key.der");
        nacl.decrypt(key, "correct horse", der).assertExit(0);
        String fromPrivate = openssl.runOk("pkey", "-inform", "DER", "-in", der.toString(), "-pubout").stdout();
        assertThat(fromPrivate).isEqualTo(Files.readString(pub));
        // never overwritten
        MainTest.Run again = withPassword("x", "keys", "cosign", "generate", "--dir", keys.toString());
        assertThat(again.code()).isEqualTo(3);
        assertThat(again.err()).contains("exists");
        // no password anywhere: refused before anything is written
        MainTest.Run none = withPassword(null, "keys", "cosign", "generate", "--dir", dir.resolve("none").toString());
        assertThat(none.code()).isEqualTo(3);
        assertThat(none.err()).contains("COSIGN_PASSWORD");
        assertThat(dir.resolve("none")).doesNotExist();

        Path img = image();
        MainTest.Run s = withPassword("correct horse", "oci", "sign", img + ":app", "--reference", "registry.example/os/app",
                "--key", key.toString());
        assertThat(s.code()).as(s.err()).isZero();
        assertKeyedSignatureVerifies(openssl, img, pub);
    }

    @Test
    void libsodiumMadeKeySignsAndWrongPasswordsAreRefusedQuietly() throws Exception {
        NaclCosignKeys nacl = NaclCosignKeys.require(dir);
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        var pair = kpg.generateKeyPair();
        Path key = dir.resolve("nacl.key");
        nacl.encrypt(pair.getPrivate().getEncoded(), "s3cr3t-pw", key);
        Path pub = Files.writeString(dir.resolve("nacl.pub"), dev.cairn.signing.CosignKeyFile.publicKeyPem(pair.getPublic()));
        Path img = image();

        MainTest.Run wrong = withPassword("wrong-pw-123", "oci", "sign", img + ":app", "--reference", "registry.example/os/app",
                "--key", key.toString());
        assertThat(wrong.code()).isEqualTo(4);
        assertThat(wrong.err()).contains("wrong password").doesNotContain("wrong-pw-123").doesNotContain("s3cr3t-pw");
        assertThat(wrong.out()).doesNotContain("wrong-pw-123");
        MainTest.Run missing = withPassword(null, "oci", "sign", img + ":app", "--reference", "registry.example/os/app",
                "--key", key.toString());
        assertThat(missing.code()).isEqualTo(4);
        assertThat(missing.err()).contains("COSIGN_PASSWORD");
        // a key alone cannot make a signature that carries a certificate
        MainTest.Run notation = withPassword("s3cr3t-pw", "oci", "sign", img + ":app", "--format", "notation", "--key", key.toString());
        assertThat(notation.code()).isEqualTo(3);
        assertThat(notation.err()).contains("--cert");
        Path pwFile = Files.writeString(dir.resolve("pw"), "s3cr3t-pw\n");
        MainTest.Run s = withPassword(null, "oci", "sign", img + ":app", "--reference", "registry.example/os/app",
                "--key", key.toString(), "--key-pass-file", pwFile.toString());
        assertThat(s.code()).as(s.err()).isZero();
        assertKeyedSignatureVerifies(openssl, img, pub);
    }

    private Path image() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "signed with a cosign key\n");
        Path img = dir.resolve("img");
        assertThat(run("oci", "layer", "add", img + ":app", tree.toString(), "--type", "tar+gzip").code()).isZero();
        return img;
    }

    private void assertKeyedSignatureVerifies(ToolOracle openssl, Path img, Path pub) throws Exception {
        OciLayout layout = OciLayout.open(img);
        Digest subject = layout.resolve("app").digest();
        List<CosignSignatures.Signature> sigs = CosignSignatures.read(layout, subject);
        assertThat(sigs).hasSize(1);
        CosignSignatures.Signature sig = sigs.get(0);
        assertThat(sig.certificatePem()).as("keyed mode carries no certificate").isNull();
        Path payload = Files.write(dir.resolve("payload"), sig.payload());
        Path der = Files.write(dir.resolve("sig.der"), Base64.getDecoder().decode(sig.base64Signature()));
        assertThat(openssl.runOk("dgst", "-sha256", "-verify", pub.toString(), "-signature", der.toString(), payload.toString()).stdout())
                .contains("Verified OK");
        MainTest.Run v = run("oci", "verify", img + ":app", "--key", pub.toString());
        assertThat(v.code()).as(v.err()).isZero();
        Path otherPub = Files.writeString(dir.resolve("other.pub"), dev.cairn.signing.CosignKeyFile.publicKeyPem(
                KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic()));
        assertThat(run("oci", "verify", img + ":app", "--key", otherPub.toString()).code()).isEqualTo(1);
        assertThat(openssl.run(Duration.ofMinutes(1), "dgst", "-sha256", "-verify", otherPub.toString(), "-signature", der.toString(),
                payload.toString()).exitCode()).isNotZero();
    }
}
