package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn keys secureboot create|esl|auth} against efitools. */
class KeysSecureBootIT {
    @TempDir
    Path dir;

    @Test
    void createdHierarchyMatchesEfitoolsAndCarriesVendorCertificates() throws Exception {
        ToolOracle sign = ToolOracle.require("sign-efi-sig-list", "efitools");
        ToolOracle split = ToolOracle.require("sig-list-to-certs", "efitools");
        Path vendor = TestPki.get().secureBoot().writeCertPem(dir.resolve("vendor-uefi-ca.pem"));
        Path keys = dir.resolve("keys");
        MainTest.Run r = run("keys", "secureboot", "create", "--dir", keys.toString(), "--key-size", "2048", "--subject", "Example",
                "--owner-guid", "11111111-2222-3333-4444-555555555555", "--source-date-epoch", "1700000000",
                "--microsoft-kek", vendor.toString(), "--microsoft-db", vendor.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain("WARNING");
        for (String v : List.of("PK", "KEK", "db")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.resolve(v + ".key")))).isEqualTo("rw-------");
        }
        Map<String, String> signer = Map.of("PK", "PK", "KEK", "PK", "db", "KEK");
        for (String v : List.of("PK", "KEK", "db")) {
            Path theirs = dir.resolve(v + ".auth");
            sign.run(Duration.ofMinutes(1), keys, List.of("-t", "2023-11-14 22:13:20", "-c", signer.get(v) + ".crt", "-k",
                    signer.get(v) + ".key", v, v + ".esl", theirs.toString()), null).assertExit(0);
            assertThat(Files.readAllBytes(keys.resolve(v + ".auth"))).as(v + ".auth vs sign-efi-sig-list").isEqualTo(Files.readAllBytes(theirs));
        }
        split.run(Duration.ofMinutes(1), dir, List.of(keys.resolve("db.esl").toString(), dir.resolve("db").toString()), null).assertExit(0);
        assertThat(dir.resolve("db-0.der")).exists();
        assertThat(Files.readAllBytes(dir.resolve("db-1.der"))).isEqualTo(TestPki.get().secureBoot().cert().getEncoded());

        MainTest.Run again = run("keys", "secureboot", "create", "--dir", keys.toString(), "--key-size", "2048");
        assertThat(again.code()).isEqualTo(3);
        assertThat(again.err()).contains("never overwrites private keys");

        Path esl = dir.resolve("vendor.esl");
        assertThat(run("keys", "secureboot", "esl", "--cert", vendor.toString(), "--out", esl.toString()).code()).isZero();
        Path theirEsl = dir.resolve("their.esl");
        ToolOracle.require("cert-to-efi-sig-list", "efitools").run(Duration.ofMinutes(1), dir,
                List.of(vendor.toString(), theirEsl.toString()), null).assertExit(0);
        assertThat(Files.readAllBytes(esl)).isEqualTo(Files.readAllBytes(theirEsl));
    }
}
