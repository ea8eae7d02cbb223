package dev.cairn.signing.secureboot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import dev.cairn.signing.authenticode.AuthenticodeSigner;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * PCR 7 predicted from Debian's snakeoil variable store for an image signed by its
 * PkKek-1-snakeoil key, against the values OVMF + swtpm produced on this machine
 * (measured-boot.md §1.4: a real boot's PCR 7, also replayed by tpm2_eventlog).
 */
class Pcr7SnakeoilIT {
    static final Path VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd");
    static final Path KEY = Path.of("/usr/share/ovmf/PkKek-1-snakeoil.key");
    static final Path CERT = Path.of("/usr/share/ovmf/PkKek-1-snakeoil.pem");
    static final UUID OVMF_OWNER = UUID.fromString("a0baa8a3-041d-48a8-bc87-c36d121b5e3d");

    @org.junit.jupiter.api.io.TempDir
    Path dir;

    @Test
    void snakeoilStoreAndKeyGiveTheBootsPcr7() throws Exception {
        ToolOracle.requireFile(VARS, "ovmf");
        ToolOracle.requireFile(KEY, "ovmf");
        Pcr7Prediction.Variables v = Pcr7Prediction.Variables.of(OvmfVarStore.read(Files.readAllBytes(VARS)));
        assertThat(v.secureBoot()).isEqualTo(1);
        assertThat(v.pk()).hasSize(935);
        assertThat(v.dbx()).hasSize(76);

        Path pass = Files.writeString(dir.resolve("pass"), "snakeoil"); // Debian's published passphrase of this test key
        KeyMaterial km = KeyLoader.fromFiles(KEY, CERT, dev.cairn.signing.Secret.ofFile(pass));
        byte[] digest = MessageDigest.getInstance("SHA-256").digest("any image".getBytes());
        byte[] sig = AuthenticodeSigner.sign(digest, "SHA-256", km);
        EfiSignatureList.Entry authority = Pcr7Prediction.authority(v, List.of(sig), alg -> digest);
        assertThat(authority.owner()).isEqualTo(OVMF_OWNER);
        assertThat(authority.data()).isEqualTo(km.certificate().getEncoded());

        List<Pcr7Prediction.Event> events = Pcr7Prediction.events(v, List.of(authority));
        HexFormat hex = HexFormat.of();
        assertThat(hex.formatHex(events.get(6).digest(PcrBank.SHA256))).startsWith("3e45733d81577680037ee00c931b1b63");
        assertThat(hex.formatHex(Pcr7Prediction.replay(events.subList(0, 6), PcrBank.SHA256)))
                .isEqualTo("3218b794a8ef4ab13903f0fc1cd167c9cc247a001201d28540d6c01e90f8fc36");
        assertThat(hex.formatHex(Pcr7Prediction.replay(events, PcrBank.SHA256)))
                .isEqualTo("02a4f904010ebddfb1ce765622af8d48ac2408422e220ad4eed1e1856407f704");
        assertThat(hex.formatHex(Pcr7Prediction.replay(events, PcrBank.SHA1))).isEqualTo("9cffa8bb8d3c3ceda64c0e38271d5674b881fdbc");

        // a signature by a key the store does not trust has no authority
        TestPki.KeyAndCert t = TestPki.get().secureBoot();
        KeyMaterial other = new KeyMaterial(t.key(), t.cert(), List.of(t.cert()), null, "test secure boot key");
        byte[] foreign = AuthenticodeSigner.sign(digest, "SHA-256", other);
        assertThatThrownBy(() -> Pcr7Prediction.authority(v, List.of(foreign), alg -> digest))
                .isInstanceOf(SigningException.class).hasMessageContaining("no db entry verifies");
        // the store's dummy dbx entry (SHA-256 of nothing) forbids that image
        byte[] empty = MessageDigest.getInstance("SHA-256").digest(new byte[0]);
        assertThatThrownBy(() -> Pcr7Prediction.authority(v, List.of(sig), alg -> empty))
                .isInstanceOf(SigningException.class).hasMessageContaining("dbx");
    }
}
