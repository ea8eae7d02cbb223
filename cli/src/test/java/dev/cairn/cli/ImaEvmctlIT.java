package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.NastyTree;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn ima sign} checked by {@code evmctl ima_verify} (ima-evm-utils). */
class ImaEvmctlIT {
    @TempDir
    Path dir;

    @Test
    void evmctlVerifiesRsaAndEcSignaturesInSigfileAndXattrMode() throws Exception {
        ToolOracle evmctl = ToolOracle.require("evmctl", "ima-evm-utils");
        Path file = dir.resolve("payload");
        Files.writeString(file, "an executable, say\n");
        for (TestPki.KeyAndCert e : List.of(TestPki.get().rsaLeaf(), TestPki.get().ecLeaf())) {
            Path key = e.writeKeyPem(dir.resolve("k.pem"));
            Path cert = e.writeCertPem(dir.resolve("c.pem"));
            Path der = dir.resolve("c.der");
            Files.write(der, e.cert().getEncoded());
            for (String hash : List.of("sha256", "sha512")) {
                MainTest.Run r = run("ima", "sign", "--sigfile", "--hash", hash, file.toString(), "--key", key.toString(), "--cert", cert.toString());
                assertThat(r.code()).as(r.err()).isZero();
                evmctl.run(Duration.ofMinutes(1), dir, List.of("ima_verify", "--sigfile", "-k", der.toString(), file.toString()), null)
                        .assertExit(0);
            }
            if (NastyTree.isRoot()) {
                MainTest.Run r = run("ima", "sign", file.toString(), "--key", key.toString(), "--cert", cert.toString());
                assertThat(r.code()).as(r.err()).isZero();
                evmctl.run(Duration.ofMinutes(1), dir, List.of("ima_verify", "-k", der.toString(), file.toString()), null).assertExit(0);
            }
        }
        Files.writeString(file, "tampered\n");
        assertThat(evmctl.run(Duration.ofMinutes(1), dir, List.of("ima_verify", "--sigfile", "-k", dir.resolve("c.der").toString(),
                file.toString()), null).exitCode()).isNotZero();
    }

    /** A batch of sigfiles with a missing file among them: evmctl verifies every good one. */
    @Test
    void evmctlVerifiesEveryFileOfABatch() throws Exception {
        ToolOracle evmctl = ToolOracle.require("evmctl", "ima-evm-utils");
        TestPki.KeyAndCert e = TestPki.get().rsaLeaf();
        Path key = e.writeKeyPem(dir.resolve("k.pem"));
        Path cert = e.writeCertPem(dir.resolve("c.pem"));
        Path der = Files.write(dir.resolve("c.der"), e.cert().getEncoded());
        List<Path> files = List.of(Files.writeString(dir.resolve("a"), "first\n"), Files.writeString(dir.resolve("b"), "second\n"),
                Files.writeString(dir.resolve("c"), "third\n"));
        Path missing = dir.resolve("missing");
        MainTest.Run r = run("ima", "sign", "--sigfile", files.get(0).toString(), missing.toString(), files.get(1).toString(),
                files.get(2).toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("cairn: " + missing + ": no such file").endsWith("cairn: signed 3 of 4 files; 1 failed\n");
        assertThat(dir.resolve("missing.sig")).doesNotExist();
        for (Path f : files) {
            evmctl.run(Duration.ofMinutes(1), dir, List.of("ima_verify", "--sigfile", "-k", der.toString(), f.toString()), null).assertExit(0);
        }
    }
}
