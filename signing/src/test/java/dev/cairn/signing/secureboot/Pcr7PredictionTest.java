package dev.cairn.signing.secureboot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.signing.pcr.PcrBank;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Vectors from measured-boot.md §1.2/§1.4 (OVMF + swtpm boots). */
class Pcr7PredictionTest {
    static final HexFormat HEX = HexFormat.of();

    @Test
    void secureBootAndSeparatorEventsMatchOvmf() {
        Pcr7Prediction.Variables v = new Pcr7Prediction.Variables(1, new byte[] {1}, new byte[] {2}, new byte[] {3}, null, null);
        List<Pcr7Prediction.Event> events = Pcr7Prediction.events(v, List.of());
        assertThat(events).extracting(Pcr7Prediction.Event::description)
                .containsExactly("SecureBoot", "PK", "KEK", "db", "dbx (absent)", "separator");
        assertThat(HEX.formatHex(events.get(0).digest(PcrBank.SHA256)))
                .isEqualTo("ccfc4bb32888a345bc8aeadaba552b627d99348c767681ab3141f5b01e40a40e");
        assertThat(events.get(0).data()).hasSize(53);
        assertThat(events.get(4).data()).hasSize(38); // absent dbx: a record with no data
        assertThat(HEX.formatHex(events.get(5).digest(PcrBank.SHA256))).startsWith("df3f6198");
        assertThat(HEX.formatHex(events.get(5).digest(PcrBank.SHA1))).startsWith("9069ca78");
    }

    @Test
    void eachAuthorityIsMeasuredOnce() {
        Pcr7Prediction.Variables v = new Pcr7Prediction.Variables(1, new byte[] {1}, new byte[] {2}, new byte[] {3}, new byte[0], null);
        EfiSignatureList.Entry a = new EfiSignatureList.Entry(UUID.fromString("a0baa8a3-041d-48a8-bc87-c36d121b5e3d"), new byte[] {9, 9});
        EfiSignatureList.Entry b = new EfiSignatureList.Entry(UUID.fromString("11111111-2222-3333-4444-555555555555"), new byte[] {9, 9});
        List<Pcr7Prediction.Event> events = Pcr7Prediction.events(v, List.of(a, a, b, a));
        assertThat(events).hasSize(8);
        assertThat(events.get(6).type()).isEqualTo(Pcr7Prediction.EV_EFI_VARIABLE_AUTHORITY);
        assertThat(events.get(6).data()).hasSize(32 + 4 + 16 + 2); // UEFI_VARIABLE_DATA "db" ‖ owner ‖ data
        assertThat(Pcr7Prediction.replay(events, PcrBank.SHA256)).isNotEqualTo(
                Pcr7Prediction.replay(events.subList(0, 7), PcrBank.SHA256));
    }

    @Test
    void secureBootOffIsRefused() {
        assertThat(Pcr7Prediction.Variables.of(List.of()).secureBoot()).isZero();
        assertThatThrownBy(() -> Pcr7Prediction.events(Pcr7Prediction.Variables.of(List.of()), List.of()))
                .hasMessageContaining("Secure Boot is off");
    }

    @Test
    void signatureListsAreBoundsChecked() throws Exception {
        byte[] list = new byte[28 + 16 + 4];
        System.arraycopy(EfiVariables.guid(EfiVariables.CERT_X509), 0, list, 0, 16);
        dev.cairn.io.LittleEndian.putU32(list, 16, list.length);
        dev.cairn.io.LittleEndian.putU32(list, 24, 20);
        assertThat(EfiSignatureList.parseAll(list, "db")).singleElement().satisfies(l -> assertThat(l.entries()).hasSize(1));
        dev.cairn.io.LittleEndian.putU32(list, 16, list.length + 1);
        assertThatThrownBy(() -> EfiSignatureList.parseAll(list, "db")).isInstanceOf(FormatException.class).hasMessageContaining("runs past");
        dev.cairn.io.LittleEndian.putU32(list, 16, list.length);
        dev.cairn.io.LittleEndian.putU32(list, 24, 7);
        assertThatThrownBy(() -> EfiSignatureList.parseAll(list, "db")).isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> EfiSignatureList.parseAll(new byte[10], "db")).isInstanceOf(FormatException.class);
    }
}
