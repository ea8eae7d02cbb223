package dev.cairn.signing.pcr;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.SwTpm;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * Oracle test against systemd-measure 252 ({@code /usr/lib/systemd/systemd-measure}), whose
 * {@code sign} verb has a TPM compute the PolicyPCR digest: here swtpm on 127.0.0.1, reached
 * through the tpm2-tss swtpm TCTI. PCR values come from {@code systemd-measure calculate}; cairn
 * signs them and must print exactly what systemd-measure prints. Also checks {@code pkfp} and
 * {@code sig} with openssl.
 */
class SystemdMeasureIT {
    static final Path MEASURE = Path.of("/usr/lib/systemd/systemd-measure");
    static final Duration T = Duration.ofMinutes(2);
    static final List<String> PHASES = List.of(":", "enter-initrd", "enter-initrd:leave-initrd",
            "enter-initrd:leave-initrd:sysinit", "enter-initrd:leave-initrd:sysinit:ready");

    @TempDir
    Path dir;

    @Test
    void cairnPrintsWhatSystemdMeasureSignsWithATpm() throws Exception {
        ToolOracle.requireFile(MEASURE, "systemd");
        ToolOracle swtpm = ToolOracle.require("swtpm", "swtpm");
        ToolOracle env = ToolOracle.require("env", "coreutils"); // runs systemd-measure (not on PATH) with a timeout
        ToolOracle.requireFile(Path.of("/usr/lib/x86_64-linux-gnu/libtss2-tcti-swtpm.so.0"), "libtss2-tcti-swtpm0");

        Path linux = Files.writeString(dir.resolve("linux"), "fake-kernel-bytes");
        Path osrel = Files.writeString(dir.resolve("osrel"), "ID=debian\n");
        Path cmdline = Files.writeString(dir.resolve("cmdline"), "quiet");
        TestPki.KeyAndCert k = TestPki.get().rsaLeaf(); // RSA-3072
        PcrSigningKey key = PcrSigningKey.of(k.key(), k.cert().getPublicKey(), "test PCR key");
        Path priv = k.writeKeyPem(dir.resolve("pcr.key"));
        Path pub = Files.writeString(dir.resolve("pcr.pub"), key.pcrpkeyPem());

        List<String> common = new ArrayList<>(List.of(MEASURE.toString(), "--linux=" + linux, "--osrel=" + osrel,
                "--cmdline=" + cmdline));
        for (String p : PHASES) {
            common.add("--phase=" + p);
        }
        List<PcrValue> values = new ArrayList<>();
        for (PcrBank bank : PcrBank.values()) {
            List<String> calc = new ArrayList<>(common);
            calc.addAll(List.of("calculate", "--bank=" + bank.jsonName(), "--json=short"));
            JsonNode entries = new ObjectMapper().readTree(env.run(T, dir, calc, null).assertExit(0).stdout()).get(bank.jsonName());
            assertThat(entries).hasSize(PHASES.size());
            for (int i = 0; i < PHASES.size(); i++) {
                JsonNode e = entries.get(i);
                assertThat(e.path("phase").asText(":")).isEqualTo(PHASES.get(i).equals(":") ? ":" : PHASES.get(i));
                values.add(new PcrValue(bank, PHASES.get(i), HexFormat.of().parseHex(e.get("hash").asText())));
            }
        }

        try (SwTpm tpm = SwTpm.start(swtpm.executable(), dir.resolve("tpm"))) {
            List<String> sign = new ArrayList<>(common);
            sign.addAll(List.of("sign", "--private-key=" + priv, "--public-key=" + pub,
                    "--tpm2-device=swtpm:host=127.0.0.1,port=" + tpm.port()));

            // sha256: byte-identical output (same pol from the TPM, RSA PKCS#1 v1.5 is deterministic)
            List<String> sha256 = new ArrayList<>(sign);
            sha256.add("--bank=sha256");
            String theirs = env.run(T, dir, sha256, null).assertExit(0).stdout();
            PcrSignatures ours = PcrPolicySigner.sign(values.stream().filter(v -> v.bank() == PcrBank.SHA256).toList(), key);
            assertSameText(ours.toJson() + "\n", theirs);
            assertThat(PcrSignatures.parse(theirs).equals(ours)).isTrue();

            // other banks: same pol (SHA-256 policy session, the bank's selection), pkfp, order and
            // formatting; but systemd 252 signs each bank's entries with that bank's hash (sha1 with
            // SHA-1, systemd#40245, fixed upstream by #41051 "always sign with SHA256"), cairn always
            // with SHA-256 as the TPM2_VerifySignature in systemd's PolicyAuthorize expects
            List<PcrBank> others = List.of(PcrBank.SHA1, PcrBank.SHA384, PcrBank.SHA512);
            List<String> legacy = new ArrayList<>(sign);
            others.forEach(b -> legacy.add("--bank=" + b.jsonName()));
            String theirsLegacy = env.run(T, dir, legacy, null).assertExit(0).stdout();
            PcrSignatures parsed = PcrSignatures.parse(theirsLegacy);
            PcrSignatures oursLegacy = PcrPolicySigner.sign(values.stream().filter(v -> others.contains(v.bank())).toList(), key);
            assertThat(parsed.banks()).extracting(PcrSignatures.Bank::bank).containsExactlyElementsOf(others);
            List<PcrSignatures.Bank> withTheirSigs = new ArrayList<>();
            for (PcrSignatures.Bank b : oursLegacy.banks()) {
                List<PcrPolicySignature> t = parsed.entries(b.bank());
                List<PcrPolicySignature> o = b.entries();
                assertThat(t).hasSize(PHASES.size());
                List<PcrPolicySignature> mixed = new ArrayList<>();
                for (int i = 0; i < t.size(); i++) {
                    assertThat(o.get(i).policy()).as(b.bank() + " pol " + i).isEqualTo(t.get(i).policy());
                    assertThat(o.get(i).fingerprint()).isEqualTo(t.get(i).fingerprint());
                    assertThat(o.get(i).pcrs()).isEqualTo(t.get(i).pcrs());
                    String bankAlg = b.bank().jcaName().replace("-", "") + "withRSA";
                    assertThat(verifies(bankAlg, key, t.get(i))).as("systemd 252 signs " + b.bank() + " with " + bankAlg).isTrue();
                    assertThat(verifies("SHA256withRSA", key, o.get(i))).isTrue();
                    mixed.add(new PcrPolicySignature(o.get(i).pcrs(), o.get(i).fingerprint(), o.get(i).policy(), t.get(i).signature()));
                }
                withTheirSigs.add(new PcrSignatures.Bank(b.bank(), mixed));
            }
            assertSameText(new PcrSignatures(withTheirSigs).toJson() + "\n", theirsLegacy);
        }
    }

    /** Equal strings, or a failure naming the first difference (not two multi-kilobyte dumps). */
    static void assertSameText(String ours, String theirs) {
        int i = 0;
        while (i < ours.length() && i < theirs.length() && ours.charAt(i) == theirs.charAt(i)) {
            i++;
        }
        if (i < ours.length() || i < theirs.length()) {
            throw new AssertionFailedError("JSON differs at character " + i + ": cairn …"
                    + ours.substring(Math.max(0, i - 40), Math.min(ours.length(), i + 40)) + "… systemd-measure …"
                    + theirs.substring(Math.max(0, i - 40), Math.min(theirs.length(), i + 40)) + "…");
        }
    }

    @Test
    void opensslAgreesOnFingerprintAndSignature() throws Exception {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        TestPki.KeyAndCert k = TestPki.get().secureBoot();
        PcrSigningKey key = PcrSigningKey.of(k.key(), k.cert().getPublicKey(), "test PCR key");
        Path pub = Files.writeString(dir.resolve("pcr.pub"), key.pcrpkeyPem());
        Path pkcs1 = dir.resolve("pcr.pkcs1.der");
        openssl.runOk("rsa", "-pubin", "-in", pub.toString(), "-RSAPublicKey_out", "-outform", "DER", "-out", pkcs1.toString());
        assertThat(key.fingerprint()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(pkcs1)));
        // openssl reads the .pcrpkey PEM back to the same key
        assertThat(openssl.runOk("pkey", "-pubin", "-in", pub.toString()).stdout()).isEqualTo(key.pcrpkeyPem());

        PcrSignatures s = PcrPolicySigner.sign(PcrPolicySignerTest.values(), key);
        for (PcrSignatures.Bank b : s.banks()) {
            for (PcrPolicySignature e : b.entries()) {
                Path pol = Files.write(dir.resolve("pol"), e.policy());
                Path sig = Files.write(dir.resolve("sig"), e.signature());
                ToolOracle.Result r = openssl.runOk("dgst", "-sha256", "-verify", pub.toString(), "-signature", sig.toString(),
                        pol.toString());
                assertThat(r.stdout()).contains("Verified OK");
                assertThat(HexFormat.of().formatHex(e.fingerprint())).isEqualTo(key.fingerprintHex());
            }
        }
    }

    static boolean verifies(String alg, PcrSigningKey key, PcrPolicySignature e) throws Exception {
        Signature v = Signature.getInstance(alg);
        v.initVerify(key.publicKey());
        v.update(e.policy());
        return v.verify(e.signature());
    }
}
