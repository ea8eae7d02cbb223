package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signing with keys generated on a fresh SoftHSM2 token, through the packaged launcher (the
 * token configuration travels in SOFTHSM2_CONF): CMS, a dm-verity root hash, an IPE policy and a
 * kernel module, each verified by openssl; wrong PIN, unknown token and unknown key are exit 4
 * with a message naming what is missing and never the PIN.
 */
class SoftHsmIT {
    private static final Duration T = Duration.ofMinutes(2);
    private static final String PIN = "cairn-pin-4711";

    @TempDir
    static Path dir;
    static Path launcher;
    static Path module;
    static Map<String, String> env;

    @BeforeAll
    static void token() throws Exception {
        launcher = LauncherIT.locate();
        ToolOracle softhsm = ToolOracle.require("softhsm2-util", "softhsm2");
        ToolOracle p11 = ToolOracle.require("pkcs11-tool", "opensc");
        module = Stream.of("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so").map(Path::of).filter(Files::isRegularFile).findFirst()
                .orElseThrow(() -> new AssertionError("libsofthsm2.so not found"));
        Path tokens = Files.createDirectories(dir.resolve("tokens"));
        Path conf = dir.resolve("softhsm2.conf");
        Files.writeString(conf, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n");
        env = Map.of("SOFTHSM2_CONF", conf.toString(), "TOKEN_PIN", PIN, "WRONG_PIN", "0000", "XDG_CACHE_HOME", dir.resolve("cache").toString());
        sh(List.of(softhsm.executable().toString(), "--init-token", "--free", "--label", "cairn-it", "--pin", PIN, "--so-pin", "so-4711"));
        String[][] keys = {{"01", "rsa", "rsa:3072"}, {"02", "ec", "EC:prime256v1"}};
        for (String[] k : keys) {
            List<String> base = List.of(p11.executable().toString(), "--module", module.toString(), "--token-label", "cairn-it");
            List<String> gen = new ArrayList<>(base);
            gen.addAll(List.of("--login", "--pin", PIN, "--keypairgen", "--key-type", k[2], "--id", k[0], "--label", k[1]));
            sh(gen);
            Path pub = dir.resolve(k[1] + ".pub.der");
            List<String> read = new ArrayList<>(base);
            read.addAll(List.of("--read-object", "--type", "pubkey", "--id", k[0], "-o", pub.toString()));
            sh(read);
            Path cert = dir.resolve(k[1] + ".crt.der");
            Files.write(cert, certify(Files.readAllBytes(pub), "CN=cairn hsm " + k[1]));
            List<String> write = new ArrayList<>(base);
            write.addAll(List.of("--login", "--pin", PIN, "--write-object", cert.toString(), "--type", "cert", "--id", k[0], "--label", k[1]));
            sh(write);
        }
    }

    /** A certificate from the test CA for a public key that lives on the token. */
    static byte[] certify(byte[] spki, String subject) throws Exception {
        TestPki.KeyAndCert ca = TestPki.get().ca();
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new X509v3CertificateBuilder(X500Name.getInstance(ca.cert().getSubjectX500Principal().getEncoded()),
                BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(86400)),
                new X500Name(subject), SubjectPublicKeyInfo.getInstance(spki));
        String alg = ca.key().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return b.build(new JcaContentSignerBuilder(alg).build(ca.key())).getEncoded();
    }

    record Out(int code, String out, String err) {
    }

    static Out sh(List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env == null ? Map.of() : env);
        Path o = Files.createTempFile(dir, "o", ".txt");
        Path e = Files.createTempFile(dir, "e", ".txt");
        pb.redirectOutput(o.toFile()).redirectError(e.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(T.toSeconds(), TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        Out r = new Out(p.exitValue(), Files.readString(o), Files.readString(e));
        if (!cmd.get(0).equals(launcher.toString())) {
            assertThat(r.code()).as(String.join(" ", cmd) + ": " + r.err()).isZero();
        }
        return r;
    }

    static Out cairn(String key, String pinVar, String token, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--pkcs11-module", module.toString(), "--pkcs11-token", token, "--pkcs11-key", key, "--pkcs11-pin-env", pinVar));
        return sh(cmd);
    }

    @Test
    void ukiSignedAndPcrPolicySignedWithTokenKeys() throws Exception {
        String sbat = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n";
        Path stub = Files.write(dir.resolve("stub.efi"), dev.cairn.testing.TinyPe.stub(sbat, "257"));
        Path kernel = Files.write(dir.resolve("vmlinuz"), dev.cairn.testing.TinyPe.kernel(4000));
        Path uki = dir.resolve("hsm-uki.efi");
        // Secure Boot key and PCR key both on the token: "rsa" signs the image, "rsa" also the policy (RSA required)
        Out r = sh(List.of(launcher.toString(), "uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--cmdline", "quiet",
                "--os-release", "ID=hsm", "--output", uki.toString(), "--pkcs11-module", module.toString(), "--pkcs11-token", "cairn-it",
                "--pkcs11-key", "rsa", "--pcr-pkcs11-key", "rsa", "--pkcs11-pin-env", "TOKEN_PIN"));
        assertThat(r.code()).as(r.err()).isZero();
        Path rsaCert = Files.write(dir.resolve("rsa-token.crt"), Files.readAllBytes(dir.resolve("rsa.crt.der")));
        ToolOracle.require("sbverify", "sbsigntool").runOk("--cert", TestPki.get().ca().writeCertPem(dir.resolve("ca-sb.pem")).toString(),
                uki.toString());
        Path pcrsig = dir.resolve("hsm.pcrsig");
        ToolOracle.require("objcopy", "binutils").runOk("--dump-section", ".pcrsig=" + pcrsig, uki.toString(), dir.resolve("o.efi").toString());
        java.security.cert.X509Certificate c = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(rsaCert));
        assertThat(dev.cairn.signing.pcr.PcrSignatures.parse(Files.readString(pcrsig))
                .verifiesWith((java.security.interfaces.RSAPublicKey) c.getPublicKey())).isTrue();
    }

    @Test
    void keysAreFoundByCkaIdToo() throws Exception {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        Path content = Files.writeString(dir.resolve("by-id.txt"), "signed by id\n");
        for (String[] k : new String[][] {{"01", "rsa"}, {"02", "ec"}}) {
            Path cms = dir.resolve("by-id-" + k[1] + ".p7s");
            Out r = sh(List.of(launcher.toString(), "sign", "cms", "--in", content.toString(), "--out", cms.toString(), "--pkcs11-module",
                    module.toString(), "--pkcs11-token", "cairn-it", "--pkcs11-key-id", k[0], "--pkcs11-pin-env", "TOKEN_PIN"));
            assertThat(r.code()).as(r.err()).isZero();
            String signer = openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", cms.toString(), "-content",
                    content.toString(), "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null", "-signer",
                    dir.resolve("signer-" + k[1] + ".pem").toString()).stderr();
            assertThat(signer).contains("Verification successful");
            assertThat(Files.readString(dir.resolve("signer-" + k[1] + ".pem"))).isNotEmpty();
            assertThat(openssl.runOk("x509", "-noout", "-subject", "-in", dir.resolve("signer-" + k[1] + ".pem").toString()).stdout())
                    .contains("cairn hsm " + k[1]);
        }
        Out missing = sh(List.of(launcher.toString(), "sign", "cms", "--in", content.toString(), "--out", dir.resolve("x.p7s").toString(),
                "--pkcs11-module", module.toString(), "--pkcs11-token", "cairn-it", "--pkcs11-key-id", "7f", "--pkcs11-pin-env", "TOKEN_PIN"));
        assertThat(missing.code()).isEqualTo(4);
        assertThat(missing.err()).contains("CKA_ID 7f").doesNotContain(PIN);
    }

    @Test
    void tokenKeysSignCmsRootHashIpePolicyAndModules() throws Exception {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        Path content = dir.resolve("content.txt");
        Files.writeString(content, "signed on a token\n");
        String root = "620c35159de3c19e7fbb5c2351719185b6e79709be64b74634b5e5dd6bce7313";
        Path rootFile = dir.resolve("root.hash");
        Files.writeString(rootFile, root);
        Path policy = dir.resolve("p.pol");
        Files.writeString(policy, "policy_name=hsm policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n"
                + "op=EXECUTE dmverity_roothash=sha256:" + root + " action=ALLOW\n");
        Path src = dir.resolve("m.s");
        Files.writeString(src, ".section .modinfo,\"a\"\n.string \"license=GPL\"\n.string \"name=hsmtest\"\n");
        for (String key : List.of("rsa", "ec")) {
            Path cms = dir.resolve(key + ".p7s");
            Out r = cairn(key, "TOKEN_PIN", "cairn-it", "sign", "cms", "--in", content.toString(), "--out", cms.toString());
            assertThat(r.code()).as(r.err()).isZero();
            openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", cms.toString(), "-content", content.toString(),
                    "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");

            Path rh = dir.resolve(key + ".roothash.p7s");
            r = cairn(key, "TOKEN_PIN", "cairn-it", "verity", "sign", root, "--out", rh.toString());
            assertThat(r.code()).as(r.err()).isZero();
            openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", rh.toString(), "-content", rootFile.toString(),
                    "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");

            Path signedPolicy = dir.resolve(key + ".p7b");
            r = cairn(key, "TOKEN_PIN", "cairn-it", "ipe", "sign", policy.toString(), "--out", signedPolicy.toString());
            assertThat(r.code()).as(r.err()).isZero();
            Path extracted = dir.resolve(key + ".pol");
            openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", signedPolicy.toString(), "-CAfile", ca.toString(),
                    "-purpose", "any", "-out", extracted.toString());
            assertThat(Files.readAllBytes(extracted)).isEqualTo(Files.readAllBytes(policy));

            Path ko = dir.resolve(key + ".ko");
            sh(List.of(ToolOracle.require("as", "binutils").executable().toString(), "-o", ko.toString(), src.toString()));
            byte[] unsigned = Files.readAllBytes(ko);
            r = cairn(key, "TOKEN_PIN", "cairn-it", "sign", "module", ko.toString());
            assertThat(r.code()).as(r.err()).isZero();
            byte[] signed = Files.readAllBytes(ko);
            int sigLen = java.nio.ByteBuffer.wrap(signed, signed.length - 28 - 4, 4).getInt();
            Path sig = dir.resolve(key + ".ko.p7s");
            Files.write(sig, java.util.Arrays.copyOfRange(signed, unsigned.length, unsigned.length + sigLen));
            Path plain = dir.resolve(key + ".plain.ko");
            Files.write(plain, unsigned);
            openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", sig.toString(), "-content", plain.toString(),
                    "-certfile", pem(key).toString(), "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");
        }
    }

    /** A batch of modules signed with one token login, on several threads: every module verifies. */
    @Test
    void tokenKeySignsAModuleBatch() throws Exception {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca-batch.pem"));
        Path src = dir.resolve("batch.s");
        Files.writeString(src, ".section .modinfo,\"a\"\n.string \"license=GPL\"\n.string \"name=hsmbatch\"\n");
        List<String> args = new ArrayList<>(List.of("sign", "module", "--threads", "3"));
        Map<Path, byte[]> unsigned = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            Path ko = dir.resolve("batch" + i + ".ko");
            sh(List.of(ToolOracle.require("as", "binutils").executable().toString(), "-o", ko.toString(), src.toString()));
            Files.write(ko, java.util.Arrays.copyOf(Files.readAllBytes(ko), Files.readAllBytes(ko).length + i)); // all different
            unsigned.put(ko, Files.readAllBytes(ko));
            args.add(ko.toString());
        }
        Out r = cairn("rsa", "TOKEN_PIN", "cairn-it", args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("cairn: signed 8 of 8 modules").doesNotContain(PIN);
        for (Map.Entry<Path, byte[]> e : unsigned.entrySet()) {
            byte[] signed = Files.readAllBytes(e.getKey());
            int sigLen = java.nio.ByteBuffer.wrap(signed, signed.length - 28 - 4, 4).getInt();
            Path sig = Files.write(dir.resolve("batch.p7s"), java.util.Arrays.copyOfRange(signed, e.getValue().length, e.getValue().length + sigLen));
            Path plain = Files.write(dir.resolve("batch.plain"), e.getValue());
            openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", sig.toString(), "-content", plain.toString(),
                    "-certfile", pem("rsa").toString(), "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");
        }
    }

    /** notation JWS (PS384 through SunPKCS11 RSASSA-PSS, ES256 in P1363 form) and sigstore bundles from token keys, checked by the npm oracles. */
    @Test
    void ociNotationAndSigstoreBundleSignedWithTokenKeys() throws Exception {
        ToolOracle node = ToolOracle.require("node", "nodejs");
        Path nodeDir = ToolOracle.requireNodeModules(OciSignatureOracleIT.NODE_DIR, "jose", "@sigstore/verify", "@sigstore/bundle");
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca-oci.pem"));
        Path tree = Files.createDirectories(dir.resolve("oci-tree"));
        Files.writeString(tree.resolve("f"), "token-signed image\n");
        Path img = dir.resolve("oci-img");
        assertThat(sh(List.of(launcher.toString(), "oci", "layer", "add", img + ":app", tree.toString(), "--type", "tar+gzip")).code()).isZero();
        dev.cairn.oci.OciLayout layout = dev.cairn.oci.OciLayout.open(img);
        dev.cairn.oci.Descriptor subject = layout.resolve("app");
        Path manifest = img.resolve("blobs/sha256").resolve(subject.digest().hex());
        for (String[] k : new String[][] {{"rsa", "PS384"}, {"ec", "ES256"}}) {
            Path chain = Files.writeString(dir.resolve(k[0] + ".chain.pem"), Files.readString(pem(k[0])) + Files.readString(ca));
            Out n = cairn(k[0], "TOKEN_PIN", "cairn-it", "oci", "sign", img + ":app", "--format", "notation", "--cert", chain.toString(), "--json");
            assertThat(n.code()).as(n.err()).isZero();
            assertThat(n.out()).contains("\"algorithm\" : \"" + k[1] + "\"");
            Out b = cairn(k[0], "TOKEN_PIN", "cairn-it", "oci", "sign", img + ":app", "--format", "sigstore-bundle", "--json");
            assertThat(b.code()).as(b.err()).isZero();
            String nd = new com.fasterxml.jackson.databind.ObjectMapper().readTree(n.out()).get("signatureManifest").asText();
            String bd = new com.fasterxml.jackson.databind.ObjectMapper().readTree(b.out()).get("signatureManifest").asText();
            var store = dev.cairn.oci.ArtifactStore.of(layout);
            byte[] envelope = dev.cairn.oci.NotationSignatures.read(store, subject.digest()).stream()
                    .filter(a -> a.manifest().digest().toString().equals(nd)).findFirst().orElseThrow().envelope();
            byte[] bundle = dev.cairn.oci.SigstoreBundles.read(store, subject.digest()).stream()
                    .filter(a -> a.manifest().digest().toString().equals(bd)).findFirst().orElseThrow().bundle();
            Path env = Files.write(dir.resolve(k[0] + ".jws.json"), envelope);
            Path bun = Files.write(dir.resolve(k[0] + ".bundle.json"), bundle);
            ToolOracle.Result jose = node.run(T, null, List.of(nodeDir.resolve("verify-notation.mjs").toString(), env.toString(),
                    manifest.toString(), ca.toString()), null);
            assertThat(jose.exitCode()).as(jose.stderr()).isZero();
            assertThat(jose.stdout()).contains("\"alg\":\"" + k[1] + "\"");
            ToolOracle.Result sig = node.run(T, null, List.of(nodeDir.resolve("verify-bundle.mjs").toString(), bun.toString(),
                    manifest.toString(), ca.toString()), null);
            assertThat(sig.exitCode()).as(sig.stderr()).isZero();
        }
        for (String format : List.of("notation", "sigstore-bundle")) {
            Out v = sh(List.of(launcher.toString(), "oci", "verify", img + ":app", "--format", format, "--ca", ca.toString()));
            assertThat(v.code()).as(v.err()).isZero();
        }
    }

    static Path pem(String key) throws IOException {
        Path p = dir.resolve(key + ".crt.pem");
        byte[] der = Files.readAllBytes(dir.resolve(key + ".crt.der"));
        Files.writeString(p, "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END CERTIFICATE-----\n");
        return p;
    }

    @Test
    void wrongPinUnknownTokenAndUnknownKeyAreSigningErrors() throws Exception {
        Path content = dir.resolve("c.txt");
        Files.writeString(content, "x");
        Path out = dir.resolve("never.p7s");
        Out wrong = cairn("rsa", "WRONG_PIN", "cairn-it", "sign", "cms", "--in", content.toString(), "--out", out.toString());
        assertThat(wrong.code()).isEqualTo(4);
        assertThat(wrong.err()).contains("wrong PIN").doesNotContain("0000").doesNotContain(PIN);
        Out token = cairn("rsa", "TOKEN_PIN", "no-such-token", "sign", "cms", "--in", content.toString(), "--out", out.toString());
        assertThat(token.code()).isEqualTo(4);
        assertThat(token.err()).contains("no PKCS#11 token labelled 'no-such-token'").contains("cairn-it").doesNotContain(PIN);
        Out key = cairn("no-such-key", "TOKEN_PIN", "cairn-it", "sign", "cms", "--in", content.toString(), "--out", out.toString());
        assertThat(key.code()).isEqualTo(4);
        assertThat(key.err()).contains("no private key labelled 'no-such-key'").contains("rsa").doesNotContain(PIN);
        assertThat(out).doesNotExist();
    }
}
