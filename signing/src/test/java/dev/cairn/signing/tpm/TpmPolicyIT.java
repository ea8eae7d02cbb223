package dev.cairn.signing.tpm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.pcr.PcrPolicy;
import dev.cairn.signing.pcr.PcrPolicySigner;
import dev.cairn.signing.pcr.PcrSigningKey;
import dev.cairn.signing.pcr.PcrValue;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.SwTpm;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tpm2-tools 5.4 on swtpm compute each policy kind in a trial session; cairn must print the same
 * digests. Then a secret sealed to cairn's PolicyAuthorize digest unseals with a PCR 11 policy
 * signed the way {@code .pcrsig} signs it, and stops unsealing when PCR 11 changes.
 */
class TpmPolicyIT {
    static final Duration T = Duration.ofMinutes(1);
    static final HexFormat HEX = HexFormat.of();
    @TempDir
    static Path dir;
    static SwTpm tpm;
    static ToolOracle loadexternal;

    @BeforeAll
    static void startTpm() throws Exception {
        ToolOracle swtpm = ToolOracle.require("swtpm", "swtpm");
        loadexternal = ToolOracle.require("tpm2_loadexternal", "tpm2-tools");
        tpm = SwTpm.start(swtpm.executable(), dir.resolve("state"));
    }

    @AfterAll
    static void stopTpm() throws Exception {
        if (tpm != null) {
            tpm.close();
        }
    }

    static ToolOracle.Result tpm2(String tool, byte[] stdin, String... args) {
        List<String> a = new ArrayList<>(List.of("-T", tpm.tcti()));
        a.addAll(List.of(args));
        ToolOracle t = ToolOracle.require("tpm2_" + tool, "tpm2-tools");
        return t.run(T, dir, a, stdin).assertExit(0);
    }

    static ToolOracle.Result tpm2(String tool, String... args) {
        return tpm2(tool, null, args);
    }

    /** Runs {@code steps} in a fresh trial session and returns the digest tpm2-tools writes. */
    static byte[] trial(String name, List<String[]> steps) throws Exception {
        Path session = dir.resolve(name + ".session");
        tpm2("startauthsession", "-S", session.toString());
        try {
            Path out = dir.resolve(name + ".policy");
            for (String[] s : steps) {
                List<String> a = new ArrayList<>(List.of(s).subList(1, s.length));
                a.addAll(List.of("-S", session.toString(), "-L", out.toString()));
                tpm2(s[0], a.toArray(String[]::new));
            }
            return Files.readAllBytes(out);
        } finally {
            tpm2("flushcontext", session.toString());
        }
    }

    static byte[] tpmName(PublicKey key, String alg, String name) throws Exception {
        Path pem = dir.resolve(name + ".pub.pem");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        Path out = dir.resolve(name + ".name");
        tpm2("loadexternal", "-C", "o", "-G", alg, "-u", pem.toString(), "-n", out.toString(), "-c", dir.resolve(name + ".ctx").toString());
        tpm2("flushcontext", "-t");
        return Files.readAllBytes(out);
    }

    @Test
    void keyNamesMatchLoadExternal() throws Exception {
        PublicKey rsa2048 = TestPki.get().secureBoot().cert().getPublicKey();
        PublicKey p256 = TestPki.get().ecLeaf().cert().getPublicKey();
        // (swtpm 0.7 here refuses RSA-3072: "RSA key-size 3072 is not supported"; TpmPolicyTest covers the layout)
        assertThat(HEX.formatHex(TpmtPublic.name(rsa2048))).isEqualTo(HEX.formatHex(tpmName(rsa2048, "rsa", "rsa2048")));
        assertThat(HEX.formatHex(TpmtPublic.name(p256))).isEqualTo(HEX.formatHex(tpmName(p256, "ecc", "p256")));
    }

    @Test
    void policyPcrAcrossBanksMatchesCreatePolicy() throws Exception {
        byte[] s7 = SeededData.bytes(7, 32);
        byte[] s11 = SeededData.bytes(11, 32);
        byte[] h7 = SeededData.bytes(17, 20);
        Path values = dir.resolve("pcrs.bin");
        Files.write(values, concat(s7, s11, h7));
        Path out = dir.resolve("createpolicy.policy");
        tpm2("createpolicy", "--policy-pcr", "-l", "sha256:7,11+sha1:7", "-f", values.toString(), "-L", out.toString());
        TpmPolicy ours = TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 11, s11),
                new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, s7), new TpmPolicy.PcrCondition(PcrBank.SHA1, 7, h7)));
        assertThat(ours.digestHex()).isEqualTo(HEX.formatHex(Files.readAllBytes(out)));
    }

    @Test
    void authorizeNvOrAndAuthValueMatchTrialSessions() throws Exception {
        PublicKey key = TestPki.get().secureBoot().cert().getPublicKey();
        byte[] name = tpmName(key, "rsa", "auth");
        Path nameFile = dir.resolve("auth.name");
        Path ref = Files.write(dir.resolve("ref.bin"), "initrd".getBytes(StandardCharsets.US_ASCII));
        assertThat(HEX.formatHex(trial("authorize", List.<String[]>of(new String[] {"policyauthorize", "-n", nameFile.toString()}))))
                .isEqualTo(TpmPolicy.start().authorize(name, new byte[0]).digestHex());
        assertThat(HEX.formatHex(trial("authorize-ref", List.<String[]>of(new String[] {"policyauthorize", "-n", nameFile.toString(),
                "-q", ref.toString()})))).isEqualTo(TpmPolicy.start().authorize(name, "initrd".getBytes(StandardCharsets.US_ASCII)).digestHex());

        // MachineOS: PolicyPCR(sha256:7) then PolicyNV(version index == "0001"), named once written
        tpm2("nvdefine", "0x1500020", "-C", "o", "-s", "4", "-a", "ownerwrite|ownerread|authread");
        tpm2("nvwrite", "0001".getBytes(StandardCharsets.US_ASCII), "0x1500020", "-C", "o", "-i-");
        byte[] nvPublic = tpm2("nvreadpublic", "0x1500020").stdout().getBytes(StandardCharsets.UTF_8);
        TpmsNvPublic nv = TpmsNvPublic.parseNvReadPublic(nvPublic, 0x01500020);
        byte[] pcr7 = SeededData.bytes(77, 32);
        Path pcrFile = Files.write(dir.resolve("pcr7.bin"), pcr7);
        Path session = dir.resolve("nv.session");
        Path out = dir.resolve("nv.policy");
        tpm2("startauthsession", "-S", session.toString());
        try {
            tpm2("policypcr", "-S", session.toString(), "-l", "sha256:7", "-f", pcrFile.toString(), "-L", out.toString());
            tpm2("policynv", "0001".getBytes(StandardCharsets.US_ASCII), "-S", session.toString(), "-i-", "0x1500020", "eq",
                    "-L", out.toString());
        } finally {
            tpm2("flushcontext", session.toString());
        }
        TpmPolicy machineOs = TpmPolicy.start().pcr(List.of(new TpmPolicy.PcrCondition(PcrBank.SHA256, 7, pcr7)))
                .nv(nv, "0001".getBytes(StandardCharsets.US_ASCII), 0, NvOperation.EQ);
        assertThat(machineOs.digestHex()).isEqualTo(HEX.formatHex(Files.readAllBytes(out)));

        byte[] a = machineOs.digest();
        byte[] b = TpmPolicy.start().authValue().digest();
        Path fa = Files.write(dir.resolve("a.policy"), a);
        Path fb = Files.write(dir.resolve("b.policy"), b);
        assertThat(HEX.formatHex(trial("or", List.<String[]>of(new String[] {"policyor", "sha256:" + fa + "," + fb}))))
                .isEqualTo(TpmPolicy.start().or(List.of(a, b)).digestHex());
        assertThat(HEX.formatHex(trial("authvalue", List.<String[]>of(new String[] {"policyauthvalue"}))))
                .isEqualTo(TpmPolicy.start().authValue().digestHex());
    }

    @Test
    void secretSealedToAuthorizeUnsealsWithASignedPcrPolicyUntilPcr11Changes() throws Exception {
        TestPki.KeyAndCert k = TestPki.get().secureBoot();
        PcrSigningKey signer = PcrSigningKey.of(k.key(), k.cert().getPublicKey(), "pcr key");
        byte[] keyName = tpmName(k.cert().getPublicKey(), "rsa", "pcrkey");
        byte[] authorize = TpmPolicy.start().authorize(keyName, new byte[0]).digest();
        Path authPolicy = Files.write(dir.resolve("seal.policy"), authorize);
        Path secret = Files.writeString(dir.resolve("secret"), "cairn-sealed-secret");
        tpm2("createprimary", "-C", "o", "-c", dir.resolve("primary.ctx").toString());
        tpm2("create", "-C", dir.resolve("primary.ctx").toString(), "-L", authPolicy.toString(), "-i", secret.toString(),
                "-a", "fixedtpm|fixedparent", "-u", dir.resolve("seal.pub").toString(), "-r", dir.resolve("seal.priv").toString());
        tpm2("flushcontext", "-t");

        String pcr11 = tpm2("pcrread", "sha256:11", "-o", dir.resolve("pcr11.bin").toString()).stdout();
        byte[] value = Files.readAllBytes(dir.resolve("pcr11.bin"));
        // what .pcrsig carries for this PCR 11 value: pol and its signature
        var signed = PcrPolicySigner.sign(List.of(new PcrValue(PcrBank.SHA256, "enter-initrd", value)), signer)
                .banks().get(0).entries().get(0);
        assertThat(signed.policy()).isEqualTo(PcrPolicy.policyPcrDigest(new PcrValue(PcrBank.SHA256, "x", value)));
        Path pol = Files.write(dir.resolve("approved.policy"), signed.policy());
        Path sig = Files.write(dir.resolve("approved.sig"), signed.signature());

        assertThat(unseal(pol, sig)).as("PCR 11 as signed (%s)", pcr11).isEqualTo("cairn-sealed-secret");
        tpm2("pcrextend", "11:sha256=" + "ab".repeat(32));
        assertThat(unseal(pol, sig)).as("after PCR 11 changed").isNull();
    }

    /** The secret, or null when the policy session cannot be satisfied. */
    private static String unseal(Path pol, Path sig) throws Exception {
        Path ctx = dir.resolve("key.ctx");
        tpm2("loadexternal", "-C", "o", "-G", "rsa", "-u", dir.resolve("pcrkey.pub.pem").toString(), "-c", ctx.toString());
        tpm2("verifysignature", "-c", ctx.toString(), "-g", "sha256", "-m", pol.toString(), "-s", sig.toString(), "-f", "rsassa",
                "-t", dir.resolve("ticket").toString());
        tpm2("flushcontext", "-t");
        tpm2("createprimary", "-C", "o", "-c", dir.resolve("primary.ctx").toString());
        tpm2("load", "-C", dir.resolve("primary.ctx").toString(), "-u", dir.resolve("seal.pub").toString(), "-r",
                dir.resolve("seal.priv").toString(), "-c", dir.resolve("seal.ctx").toString());
        tpm2("flushcontext", "-t"); // swtpm holds 3 objects: keep only saved contexts between tools
        Path session = dir.resolve("real.session");
        tpm2("startauthsession", "--policy-session", "-S", session.toString());
        try {
            tpm2("policypcr", "-S", session.toString(), "-l", "sha256:11");
            ToolOracle t = ToolOracle.require("tpm2_policyauthorize", "tpm2-tools");
            ToolOracle.Result r = t.run(T, dir, List.of("-T", tpm.tcti(), "-S", session.toString(), "-i", pol.toString(), "-n",
                    dir.resolve("pcrkey.name").toString(), "-t", dir.resolve("ticket").toString()), null);
            if (r.exitCode() != 0) {
                return null;
            }
            return tpm2("unseal", "-c", dir.resolve("seal.ctx").toString(), "-p", "session:" + session).stdout();
        } finally {
            tpm2("flushcontext", session.toString());
            tpm2("flushcontext", "-t");
        }
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }
}
