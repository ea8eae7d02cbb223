package dev.cairn.signing.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.RSAPublicKey;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Vectors from measured-boot.md §2 (checked there against swtpm and systemd's test-tpm2.c). */
class TpmPolicyTest {
    static final HexFormat HEX = HexFormat.of();
    static final String NV_PUBLIC = """
            0x1500020:
              name: 000b9a2a448f2272a89720c1f37eef785dea317a40ef975bb78de155234f60c66a1a
              hash algorithm:
                friendly: sha256
                value: 0xB
              attributes:
                friendly: ownerwrite|ownerread|authread|written
                value: 0x20060002
              size: 4
            """;

    @Test
    void authValueFromAFreshSession() {
        assertThat(TpmPolicy.start().authValue().digestHex())
                .isEqualTo("8fcd2169ab92694e0c633f1ab772842b8241bbc20288981fc7ac1eddc1fddb0e");
    }

    @Test
    void nvNameOfTheMachineOsVersionIndexOnceWritten() throws Exception {
        TpmsNvPublic unwritten = new TpmsNvPublic(0x01500020, TpmsNvPublic.parseAttributes("ownerwrite|ownerread|authread"),
                new byte[0], 4);
        assertThat(unwritten.attributes()).isEqualTo(0x00060002);
        assertThat(HEX.formatHex(unwritten.written().name()))
                .isEqualTo("000b9a2a448f2272a89720c1f37eef785dea317a40ef975bb78de155234f60c66a1a");
        assertThat(HEX.formatHex(unwritten.name())).startsWith("000b0ccc34755f26");
        TpmsNvPublic parsed = TpmsNvPublic.parseNvReadPublic(NV_PUBLIC.getBytes(StandardCharsets.UTF_8), null);
        assertThat(parsed.name()).isEqualTo(unwritten.written().name());
        assertThat(TpmsNvPublic.parseAttributes("0x20060002")).isEqualTo(0x20060002);
    }

    @Test
    void badNvInputIsRefusedWithTheField() {
        assertThatThrownBy(() -> TpmsNvPublic.parseAttributes("ownerwrite|frobnicate")).isInstanceOf(FormatException.class)
                .hasMessageContaining("frobnicate");
        assertThatThrownBy(() -> TpmsNvPublic.parseNvReadPublic("hello: world\n".getBytes(StandardCharsets.UTF_8), null))
                .isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> TpmsNvPublic.parseNvReadPublic("0x1500020:\n  size: 4\n".getBytes(StandardCharsets.UTF_8), null))
                .isInstanceOf(FormatException.class).hasMessageContaining("lacks");
        assertThatThrownBy(() -> TpmsNvPublic.parseIndex("0x81000001")).isInstanceOf(FormatException.class);
    }

    @Test
    void policyNvIsTheMachineOsFormula() throws Exception {
        TpmsNvPublic nv = TpmsNvPublic.parseNvReadPublic(NV_PUBLIC.getBytes(StandardCharsets.UTF_8), 0x01500020);
        byte[] operand = "0001".getBytes(StandardCharsets.US_ASCII);
        byte[] args = TpmPolicy.sha256(operand, new byte[] {0, 0, 0, 0});
        byte[] expected = TpmPolicy.sha256(new byte[32], HEX.parseHex("00000149"), args, nv.name());
        assertThat(TpmPolicy.start().nv(nv, operand, 0, NvOperation.EQ).digest()).isEqualTo(expected);
    }

    @Test
    void policyPcrGroupsBanksAndSortsPcrs() {
        byte[] v7 = new byte[32];
        byte[] v11 = new byte[32];
        v7[0] = 7;
        v11[0] = 11;
        TpmPolicy a = TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 11, v11),
                new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, v7)));
        byte[] sel = HEX.parseHex("00000001" + "000b" + "03" + "800800");
        byte[] values = new byte[64];
        values[0] = 7;
        values[32] = 11;
        assertThat(a.digest()).isEqualTo(TpmPolicy.sha256(new byte[32], HEX.parseHex("0000017f"), sel, TpmPolicy.sha256(values)));
        // a single PCR 11 equals what .pcrsig signs
        assertThat(TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 11, v11))).digest())
                .isEqualTo(dev.cairn.signing.pcr.PcrPolicy.policyPcrDigest(new dev.cairn.signing.pcr.PcrValue(PcrBank.SHA256, "enter-initrd", v11)));
        assertThatThrownBy(() -> TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, v7),
                new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, v11)))).hasMessageContaining("two values");
        assertThatThrownBy(() -> new TpmPolicy.PcrCondition(PcrBank.SHA1, 7, v7)).hasMessageContaining("20 bytes");
    }

    @Test
    void policyOrRefusesAnUnsatisfiableChain() {
        byte[] a = TpmPolicy.start().authValue().digest();
        byte[] b = new byte[32];
        TpmPolicy fresh = TpmPolicy.start().or(List.of(a, b));
        assertThat(fresh.digest()).isEqualTo(TpmPolicy.sha256(new byte[32], HEX.parseHex("00000171"), a, b));
        assertThat(TpmPolicy.start().authValue().or(List.of(a, b)).digest()).isEqualTo(fresh.digest());
        byte[] c = new byte[32];
        c[0] = 1;
        assertThatThrownBy(() -> TpmPolicy.start().authValue().or(List.of(c, b))).hasMessageContaining("none of its branches");
        assertThatThrownBy(() -> TpmPolicy.start().or(List.of(a))).hasMessageContaining("2 to 8");
    }

    @Test
    void authorizeIgnoresWhatCameBeforeAndHashesTheReference() throws Exception {
        byte[] name = TpmtPublic.name(TestPki.get().rsaLeaf().cert().getPublicKey());
        byte[] ref = "initrd".getBytes(StandardCharsets.US_ASCII);
        byte[] first = TpmPolicy.sha256(new byte[32], HEX.parseHex("0000016a"), name);
        assertThat(TpmPolicy.start().authorize(name, new byte[0]).digest()).isEqualTo(TpmPolicy.sha256(first));
        assertThat(TpmPolicy.start().authValue().authorize(name, ref).digest()).isEqualTo(TpmPolicy.sha256(first, ref));
    }

    @Test
    void rsaPublicAreaLayout() throws Exception {
        RSAPublicKey k = (RSAPublicKey) TestPki.get().rsaLeaf().cert().getPublicKey();
        byte[] pub = TpmtPublic.encode(k);
        int bytes = k.getModulus().bitLength() / 8;
        assertThat(HEX.formatHex(pub, 0, 20)).isEqualTo("0001000b000600400000001000100" + Integer.toHexString(0x1000 | k.getModulus().bitLength()).substring(1)
                + "00010001");
        assertThat(pub).hasSize(20 + 2 + bytes);
        assertThat(TpmtPublic.name(k)).hasSize(34).startsWith(0, 0x0b);
    }
}
