package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.secureboot.EfiSignatureList;
import dev.cairn.signing.secureboot.EfiVariables;
import dev.cairn.signing.secureboot.Pcr7Prediction;
import dev.cairn.signing.tpm.NvOperation;
import dev.cairn.signing.tpm.TpmPolicy;
import dev.cairn.signing.tpm.TpmsNvPublic;
import dev.cairn.signing.tpm.TpmtPublic;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.TinyPe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn pcr predict} and {@code cairn tpm policy} in-process: plumbing, order of steps, refusals. */
class PcrTpmCommandTest {
    static final HexFormat HEX = HexFormat.of();
    static final UUID OWNER = UUID.fromString("11111111-2222-3333-4444-555555555555");
    @TempDir
    Path dir;

    Path uki(boolean signed) throws Exception {
        Path stub = Files.write(dir.resolve("stub.efi"), TinyPe.stub(UkiCommandTest.SBAT, "257.1"));
        Path kernel = Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(5000));
        Path key = TestPki.get().secureBoot().writeKeyPem(dir.resolve("db.key"));
        Path cert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.crt"));
        Path out = dir.resolve(signed ? "uki.efi" : "unsigned.efi");
        List<String> a = new java.util.ArrayList<>(List.of("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(),
                "--cmdline", "quiet", "--os-release", "ID=test\n", "--output", out.toString()));
        if (signed) {
            a.addAll(List.of("--key", key.toString(), "--cert", cert.toString()));
        }
        MainTest.Run r = run(a.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return out;
    }

    @Test
    void pcr7FromSignatureListsAndItsRefusals() throws Exception {
        Path uki = uki(true);
        byte[] esl = EfiVariables.signatureList(OWNER, TestPki.get().secureBoot().cert());
        Path pk = Files.write(dir.resolve("PK.esl"), esl);
        Path db = Files.write(dir.resolve("db.esl"), esl);
        MainTest.Run r = run("pcr", "predict", "7", "--pk", pk.toString(), "--kek", pk.toString(), "--db", db.toString(),
                "--uki", uki.toString(), "--bank", "sha256,sha1");
        assertThat(r.code()).as(r.err()).isZero();
        Pcr7Prediction.Variables v = new Pcr7Prediction.Variables(1, esl, esl, esl, null, null);
        List<Pcr7Prediction.Event> events = Pcr7Prediction.events(v,
                List.of(new EfiSignatureList.Entry(OWNER, TestPki.get().secureBoot().cert().getEncoded())));
        assertThat(r.out()).isEqualTo("7:sha256=" + HEX.formatHex(Pcr7Prediction.replay(events, PcrBank.SHA256)) + "\n"
                + "7:sha1=" + HEX.formatHex(Pcr7Prediction.replay(events, PcrBank.SHA1)) + "\n");

        JsonNode j = new ObjectMapper().readTree(run("pcr", "predict", "7", "--pk", pk.toString(), "--kek", pk.toString(), "--db",
                db.toString(), "--uki", uki.toString(), "--json").out());
        assertThat(j.at("/events")).hasSize(7);
        assertThat(j.at("/events/6/type").asText()).isEqualTo("EV_EFI_VARIABLE_AUTHORITY");
        assertThat(j.at("/authorities/0/owner").asText()).isEqualTo(OWNER.toString());

        MainTest.Run unsigned = run("pcr", "predict", "7", "--pk", pk.toString(), "--kek", pk.toString(), "--db", db.toString(),
                "--uki", uki(false).toString());
        assertThat(unsigned.code()).isEqualTo(1);
        assertThat(unsigned.err()).contains("would refuse it");
        byte[] other = EfiVariables.signatureList(OWNER, TestPki.get().ca().cert());
        Path otherDb = Files.write(dir.resolve("other.esl"), other);
        assertThat(run("pcr", "predict", "7", "--pk", pk.toString(), "--kek", pk.toString(), "--db", otherDb.toString(),
                "--uki", uki.toString()).code()).isEqualTo(1);
        Path truncated = Files.write(dir.resolve("bad.esl"), java.util.Arrays.copyOf(esl, 40));
        assertThat(run("pcr", "predict", "7", "--pk", pk.toString(), "--kek", pk.toString(), "--db", truncated.toString(),
                "--uki", uki.toString()).code()).isEqualTo(3);
        assertThat(run("pcr", "predict", "7", "--uki", uki.toString()).code()).isEqualTo(2);
        assertThat(run("pcr", "predict", "9", "--uki", uki.toString()).code()).isEqualTo(2);
    }

    @Test
    void pcr11IsUkiMeasure() throws Exception {
        Path uki = uki(true);
        MainTest.Run a = run("pcr", "predict", "11", "--uki", uki.toString(), "--bank", "sha256");
        MainTest.Run b = run("uki", "measure", "--bank", "sha256", uki.toString());
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).isEqualTo(b.out()).startsWith("11:sha256=");
    }

    @Test
    void policyStepsRunInTheOrderGiven() throws Exception {
        assertThat(run("tpm", "policy", "--auth-value").out().strip())
                .isEqualTo("8fcd2169ab92694e0c633f1ab772842b8241bbc20288981fc7ac1eddc1fddb0e");
        byte[] pcr7 = SeededData.bytes(7, 32);
        byte[] pcr11 = SeededData.bytes(11, 32);
        String p7 = "7:sha256=" + HEX.formatHex(pcr7);
        String p11 = "11:sha256=" + HEX.formatHex(pcr11);
        TpmsNvPublic nv = new TpmsNvPublic(0x01500020, 0x00060002, new byte[0], 4).written();
        byte[] operand = "0001".getBytes(StandardCharsets.US_ASCII);
        TpmPolicy machineOs = TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, pcr7)))
                .nv(nv, operand, 0, NvOperation.EQ);
        Path out = dir.resolve("policy.bin");
        MainTest.Run r = run("tpm", "policy", "--pcr", p7, "--nv-index", "0x1500020", "--nv-equals", HEX.formatHex(operand),
                "--nv-attributes", "ownerwrite|ownerread|authread", "--nv-size", "4", "-o", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(machineOs.digestHex());
        assertThat(Files.readAllBytes(out)).isEqualTo(machineOs.digest());

        // consecutive --pcr form one PolicyPCR; separated ones two
        TpmPolicy one = TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, pcr7),
                new TpmPolicy.PcrCondition(PcrBank.SHA256, 11, pcr11)));
        assertThat(run("tpm", "policy", "--pcr", p11, "--pcr=" + p7).out().strip()).isEqualTo(one.digestHex());
        JsonNode j = new ObjectMapper().readTree(run("tpm", "policy", "--pcr", p7, "--auth-value", "--pcr", p11, "--json").out());
        assertThat(j.at("/steps")).hasSize(3);
        assertThat(j.at("/digest").asText()).isEqualTo(TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, pcr7)))
                .authValue().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 11, pcr11))).digestHex());

        Path pub = dir.resolve("key.pem");
        TestPki.get().secureBoot().writeCertPem(pub);
        byte[] name = TpmtPublic.name(TestPki.get().secureBoot().cert().getPublicKey());
        assertThat(run("tpm", "policy", "--pcr", p11, "--authorize", pub.toString(), "--policy-ref", "00ff").out().strip())
                .isEqualTo(TpmPolicy.start().authorize(name, new byte[] {0, (byte) 0xff}).digestHex());

        String a = machineOs.digestHex();
        String b = TpmPolicy.start().authValue().digestHex();
        assertThat(run("tpm", "policy", "--or", a + "," + b).out().strip())
                .isEqualTo(TpmPolicy.start().or(List.of(machineOs.digest(), HEX.parseHex(b))).digestHex());
    }

    @Test
    void badPolicyInputIsAUsageError() throws Exception {
        assertThat(run("tpm", "policy").code()).isEqualTo(2);
        assertThat(run("tpm", "policy", "--pcr", "7=sha256").code()).isEqualTo(2);
        assertThat(run("tpm", "policy", "--pcr", "7:sha256=abcd").code()).isEqualTo(2);
        assertThat(run("tpm", "policy", "--pcr", "7:md5=" + "00".repeat(32)).code()).isEqualTo(2);
        assertThat(run("tpm", "policy", "--nv-equals", "00").code()).isEqualTo(2);
        assertThat(run("tpm", "policy", "--nv-index", "0x1500020", "--nv-equals", "00").code()).isEqualTo(2);
        MainTest.Run or = run("tpm", "policy", "--auth-value", "--or", "00".repeat(32) + "," + "11".repeat(32));
        assertThat(or.code()).isEqualTo(2);
        assertThat(or.err()).contains("none of its branches");
        Path junk = Files.writeString(dir.resolve("nv.yaml"), "not: yaml of nvreadpublic\n");
        assertThat(run("tpm", "policy", "--nv-index", "0x1500020", "--nv-equals", "00", "--nv-public", junk.toString()).code()).isEqualTo(3);
    }
}
