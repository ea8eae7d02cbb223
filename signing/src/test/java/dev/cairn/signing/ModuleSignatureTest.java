package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.TestPki;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** {@link ModuleSignature.Signer} (many modules, one key) signs exactly as {@link ModuleSignature#sign}. */
class ModuleSignatureTest {
    static KeyMaterial rsa() {
        TestPki.KeyAndCert k = TestPki.get().rsaLeaf();
        return new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test RSA key");
    }

    static KeyMaterial ec() {
        TestPki.KeyAndCert k = TestPki.get().ecLeaf();
        return new KeyMaterial(k.key(), k.cert(), k.chain(), null, "test EC key");
    }

    static List<byte[]> modules(int n) {
        List<byte[]> m = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            m.add(SeededData.bytes(1000 + i, 1 + i * 997 % 20000));
        }
        return m;
    }

    @Test
    void rsaModulesAfterTheFirstComeFromItsTemplateByteForByte() throws Exception {
        for (String digest : new String[] {"SHA-256", "SHA-384", "SHA-512"}) {
            KeyMaterial km = rsa();
            ModuleSignature.Signer signer = ModuleSignature.signer(km, digest);
            for (byte[] module : modules(12)) {
                assertThat(signer.sign(module)).as(digest).isEqualTo(ModuleSignature.sign(module, km, digest));
            }
            assertThat(signer.usesTemplate()).as(digest).isTrue();
        }
    }

    @Test
    void ecModulesGoThroughTheCmsGeneratorEachTime() throws Exception {
        KeyMaterial km = ec();
        ModuleSignature.Signer signer = ModuleSignature.signer(km, "SHA-256");
        for (byte[] module : modules(4)) {
            byte[] signed = signer.sign(module);
            assertThat(ModuleSignature.isSigned(signed)).isTrue();
            // ECDSA is randomised: check the shape and that the signature verifies
            int sigLen = java.nio.ByteBuffer.wrap(signed, signed.length - ModuleSignature.MAGIC.length - 4, 4).getInt();
            byte[] der = java.util.Arrays.copyOfRange(signed, module.length, module.length + sigLen);
            CmsVerifier.verify(der, module, List.of(TestPki.get().ca().cert()), List.of(km.certificate()),
                    CmsSignerTest.NOW);
        }
        assertThat(signer.usesTemplate()).isFalse();
    }

    @Test
    void aSignedModuleIsRefused() throws Exception {
        KeyMaterial km = rsa();
        ModuleSignature.Signer signer = ModuleSignature.signer(km, "SHA-256");
        byte[] once = signer.sign(SeededData.bytes(7, 5000));
        byte[] onceMore = signer.sign(SeededData.bytes(8, 5000));
        assertThatThrownBy(() -> signer.sign(once)).isInstanceOf(SigningException.class).hasMessageContaining("already");
        assertThatThrownBy(() -> signer.sign(onceMore)).isInstanceOf(SigningException.class);
    }

    @Test
    void signingOnSeveralThreadsGivesTheSequentialBytes() throws Exception {
        KeyMaterial km = rsa();
        List<byte[]> modules = modules(40);
        ModuleSignature.Signer signer = ModuleSignature.signer(km, "SHA-256");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<byte[]>> signed = new ArrayList<>();
            for (byte[] m : modules) {
                signed.add(pool.submit(() -> signer.sign(m)));
            }
            for (int i = 0; i < modules.size(); i++) {
                assertThat(signed.get(i).get()).as("module " + i).isEqualTo(ModuleSignature.sign(modules.get(i), km, "SHA-256"));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
