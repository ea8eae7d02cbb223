package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.signing.secureboot.EfiVariables;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ESL and .auth files byte-identical to efitools' cert-to-efi-sig-list and sign-efi-sig-list. */
class SecureBootEfitoolsIT {
    static final UUID OWNER = UUID.fromString("11111111-2222-3333-4444-555555555555");

    @TempDir
    Path dir;

    @Test
    void eslAndAuthMatchEfitoolsByteForByte() throws Exception {
        ToolOracle toEsl = ToolOracle.require("cert-to-efi-sig-list", "efitools");
        ToolOracle sign = ToolOracle.require("sign-efi-sig-list", "efitools");
        ToolOracle back = ToolOracle.require("sig-list-to-certs", "efitools");
        TestPki.KeyAndCert sb = TestPki.get().secureBoot();
        Path key = sb.writeKeyPem(dir.resolve("k.pem"));
        Path crt = sb.writeCertPem(dir.resolve("c.pem"));
        KeyMaterial km = KeyLoader.fromFiles(key, crt, null);

        byte[] esl = EfiVariables.signatureList(OWNER, sb.cert());
        Path theirEsl = dir.resolve("their.esl");
        toEsl.run(Duration.ofMinutes(1), dir, List.of("-g", OWNER.toString(), crt.toString(), theirEsl.toString()), null).assertExit(0);
        assertThat(esl).isEqualTo(Files.readAllBytes(theirEsl));
        Path ourEsl = dir.resolve("our.esl");
        Files.write(ourEsl, esl);
        back.run(Duration.ofMinutes(1), dir, List.of(ourEsl.toString(), dir.resolve("back").toString()), null).assertExit(0);
        assertThat(Files.readAllBytes(dir.resolve("back-0.der"))).isEqualTo(sb.cert().getEncoded());

        Instant t = Instant.parse("2024-01-02T03:04:05Z");
        for (String var : List.of("PK", "KEK", "db")) {
            byte[] auth = EfiVariables.authenticatedUpdate(var, EfiVariables.vendorOf(var), false, t, esl, km);
            Path theirs = dir.resolve(var + ".auth");
            sign.run(Duration.ofMinutes(1), dir, List.of("-t", "2024-01-02 03:04:05", "-c", crt.toString(), "-k", key.toString(),
                    var, ourEsl.toString(), theirs.toString()), null).assertExit(0);
            assertThat(auth).as(var + ".auth").isEqualTo(Files.readAllBytes(theirs));
        }
        byte[] append = EfiVariables.authenticatedUpdate("db", EfiVariables.IMAGE_SECURITY_DATABASE, true, t, esl, km);
        Path theirs = dir.resolve("db-append.auth");
        sign.run(Duration.ofMinutes(1), dir, List.of("-a", "-t", "2024-01-02 03:04:05", "-c", crt.toString(), "-k", key.toString(),
                "db", ourEsl.toString(), theirs.toString()), null).assertExit(0);
        assertThat(append).as("append").isEqualTo(Files.readAllBytes(theirs));
    }
}
