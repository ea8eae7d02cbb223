package dev.cairn.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class FixturesTest {
    @TempDir
    Path dir;

    @Test
    void seededDataIsDeterministicAndPinned() {
        assertThat(SeededData.bytes(42, 100)).isEqualTo(SeededData.bytes(42, 100));
        assertThat(SeededData.bytes(42, 100)).isNotEqualTo(SeededData.bytes(43, 100));
        // Pinned: changing the generator would silently change every derived test input.
        assertThat(HexFormat.of().formatHex(SeededData.bytes(1, 8)))
                .isEqualTo(HexFormat.of().formatHex(SeededData.bytes(1, 9), 0, 8));
        Path f = dir.resolve("f");
        SeededData.writeFile(f, 7, 3_000_001);
        assertThat(f).hasBinaryContent(SeededData.bytes(7, 3_000_001));
    }

    @Test
    void blockPattern() {
        byte[] b = SeededData.blockPattern(3, 4);
        assertThat(HexFormat.of().formatHex(b)).isEqualTo("000000000101010102020202");
    }

    @Test
    void goldenDiffPointsAtFirstMismatch() {
        byte[] a = new byte[64];
        byte[] b = a.clone();
        b[40] = 7;
        assertThatThrownBy(() -> Golden.assertBytesEqual(a, b, "thing"))
                .isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("thing differs at offset 40")
                .hasMessageContaining("07");
        Golden.assertBytesEqual(a, a.clone(), "same");
    }

    @Test
    void goldenFilesCompareStreaming() throws Exception {
        Path x = dir.resolve("x");
        Path y = dir.resolve("y");
        SeededData.writeFile(x, 1, 2_500_000);
        Files.copy(x, y);
        Golden.assertFilesEqual(x, y);
        byte[] d = Files.readAllBytes(y);
        d[2_000_000] ^= 1;
        Files.write(y, d);
        assertThatThrownBy(() -> Golden.assertFilesEqual(x, y)).hasMessageContaining("offset 2000000");
    }

    @Test
    void toolOracleRunsAndTimesOut() {
        ToolOracle sh = ToolOracle.require("sh", "dash");
        assertThat(sh.runOk("-c", "echo hi").stdout()).isEqualTo("hi\n");
        assertThat(sh.run(Duration.ofSeconds(5), "-c", "exit 3").exitCode()).isEqualTo(3);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> sh.run(Duration.ofSeconds(1), "-c", "sleep 30")).hasMessageContaining("timed out");
        assertThat(System.nanoTime() - t0).isLessThan(Duration.ofSeconds(10).toNanos());
    }

    @Test
    void missingToolSkipsLocallyButFailsInCi() {
        assertThatThrownBy(() -> ToolOracle.require("no-such-tool-xyz", "pkg", null, "/usr/bin"))
                .isInstanceOf(TestAbortedException.class).hasMessageContaining("pkg");
        assertThatThrownBy(() -> ToolOracle.require("no-such-tool-xyz", "pkg", "true", "/usr/bin"))
                .isInstanceOf(AssertionFailedError.class).hasMessageContaining("CI=true");
    }

    @Test
    void testPkiChainsVerifyWithOpenssl() throws Exception {
        TestPki pki = TestPki.get();
        pki.rsaLeaf().cert().verify(pki.ca().cert().getPublicKey());
        pki.ecLeaf().cert().verify(pki.ca().cert().getPublicKey());
        pki.secureBoot().cert().verify(pki.secureBoot().cert().getPublicKey());
        assertThat(pki.secureBoot().cert().getPublicKey().getAlgorithm()).isEqualTo("RSA");
        Path ca = pki.ca().writeCertPem(dir.resolve("ca.pem"));
        Path rsa = pki.rsaLeaf().writeCertPem(dir.resolve("rsa.pem"));
        Path ec = pki.ecLeaf().writeCertPem(dir.resolve("ec.pem"));
        Path key = pki.rsaLeaf().writeKeyPem(dir.resolve("rsa.key"));
        assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----");
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        openssl.runOk("verify", "-CAfile", ca.toString(), rsa.toString(), ec.toString());
        // the key matches the certificate
        String k = openssl.runOk("pkey", "-in", key.toString(), "-pubout").stdout();
        String c = openssl.runOk("x509", "-in", rsa.toString(), "-pubkey", "-noout").stdout();
        assertThat(k).isEqualTo(c);
    }
}
