package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.DebianBootFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two-machine workflow on Debian's stub and kernel (docs/build-release.md): {@code cairn build
 * --unsigned} writes a signing request of kilobytes; {@code cairn sign request} signs each role's
 * entries with nothing but the request and the key; {@code cairn build --inject} embeds them, round
 * after round, until the set verifies — and then every artifact is byte-identical to a one-shot
 * build with the same (RSA) keys. sbverify checks the UKI, openssl cms the root-hash PKCS#7 and the
 * manifest signature. Each tampering (a signature over other bytes, a key with another
 * certificate, a truncated answer, an answer to an edited request, a missing answer) is refused,
 * naming the signature, with OUT unchanged.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SplitSigningIT {
    @TempDir
    static Path dir;
    static Path keys;
    static Path spec;
    static Path oneShot;
    static Path split;

    @BeforeAll
    static void buildOneShot() throws IOException {
        Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(dir.resolve("rootfs/etc/cairn-marker"), "verified root\n");
        Files.write(dir.resolve("rootfs/etc/data.bin"), dev.cairn.testing.SeededData.bytes(11, 200_000));
        Files.createDirectories(dir.resolve("initramfs"));
        Files.writeString(dir.resolve("initramfs/init"), "#!/bin/sh\necho test\n");
        keys = dir.resolve("keys");
        spec = dir.resolve("image.yaml");
        Files.writeString(spec, spec());
        oneShot = dir.resolve("one-shot");
        split = dir.resolve("split");
        MainTest.Run r = run("build", spec.toString(), "--out", oneShot.toString(), "--dev-keys", keys.toString());
        assertThat(r.code()).as(r.err()).isZero();
    }

    static String spec() {
        return String.join("\n",
                "apiVersion: cairn.dev/v1",
                "image:",
                "  name: split",
                "  version: 2.1.0",
                "sourceDateEpoch: 1700000000",
                "rootfs:",
                "  dir: " + dir.resolve("rootfs"),
                "  pseudo: ['/dev/console c 600 0 0 5 1']",
                "kernel:",
                "  linux: " + DebianBootFiles.kernel(),
                "  stub: " + DebianBootFiles.stub(),
                "  cmdline: console=ttyS0 cairn.verity.roothash=${verity.roothash} cairn.verity.hashoffset=${verity.hashoffset}",
                "  initramfs:",
                "    dir: " + dir.resolve("initramfs"),
                "keys:",
                "  secureboot: dev",
                "  manifest: dev",
                "outputs:",
                "  reference: registry.example/cairn/split",
                "");
    }

    static MainTest.Run verify(Path set) {
        return run("verify", set.toString(), "--ca", keys.resolve("ca.crt").toString(), "--db-cert", keys.resolve("secureboot/db.crt").toString());
    }

    /** The station's key options for a role of a dev-keys spec (PEM files). */
    static List<String> pemKey(String role) {
        return pemKey(keys, role);
    }

    static List<String> pemKey(Path keys, String role) {
        return switch (role) {
            case "secureboot" -> List.of("--key", keys.resolve("secureboot/db.key").toString(), "--cert",
                    keys.resolve("secureboot/db.crt").toString());
            case "pcr" -> List.of("--key", keys.resolve("pcr.key").toString(), "--cert", keys.resolve("pcr.crt").toString());
            case "manifest" -> List.of("--key", keys.resolve("signer.key").toString(), "--cert", keys.resolve("signer.crt").toString());
            default -> throw new IllegalArgumentException(role);
        };
    }

    static JsonNode json(Path p) throws IOException {
        return new ObjectMapper().readTree(p.toFile());
    }

    static MainTest.Run sign(Path request, String role, Path out, List<String> key) {
        List<String> a = new ArrayList<>(List.of("sign", "request", request.toString(), "--role", role, "--out", out.toString()));
        a.addAll(key);
        return run(a.toArray(String[]::new));
    }

    static MainTest.Run inject(Path... answers) {
        List<String> a = new ArrayList<>(List.of("build", spec.toString(), "--out", split.toString(), "--dev-keys", keys.toString(), "-q"));
        for (Path p : answers) {
            a.add("--inject");
            a.add(p.toString());
        }
        return run(a.toArray(String[]::new));
    }

    /** Every file of a set (not the cache, not the keys) → its SHA-256. */
    static Map<String, String> state(Path set) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(set)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = set.relativize(p).toString();
                if (rel.startsWith(".cairn-cache") || rel.startsWith("dev-keys") || rel.startsWith(".cairn-lock") || rel.equals(".lock")) {
                    continue;
                }
                m.put(rel, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return m;
    }

    /** A signing station: signs {@code role}'s entries of {@code request} into {@code answer}. */
    interface Station {
        void sign(Path request, String role, Path answer) throws Exception;
    }

    /** A station holding the PEM development keys in {@code keys}. */
    static Station pemStation(Path keys) {
        return (request, role, answer) -> {
            MainTest.Run r = sign(request, role, answer, pemKey(keys, role));
            assertThat(r.code()).as(r.out() + r.err()).isZero();
        };
    }

    /**
     * Round after round: each role of OUT/signing-request.json signed by {@code station}, the answers
     * injected (cairn build SPEC --out OUT --inject ...), until the set is complete. Returns a line
     * "ROUND ROLE ID" per signature, and asserts every request stays kilobytes.
     */
    static List<String> complete(Path spec, Path out, Path devKeys, Path work, Station station) throws Exception {
        Path req = out.resolve("signing-request.json");
        List<String> lines = new ArrayList<>();
        for (int round = 1; round <= 4 && Files.exists(req); round++) {
            JsonNode q = json(req);
            assertThat(q.path("round").asInt()).isGreaterThanOrEqualTo(round);
            long size = Files.size(req);
            System.out.println("[SplitSigningIT] " + out.getFileName() + " round " + q.path("round").asInt() + ": signing-request.json "
                    + size + " bytes, " + q.path("signatures").size() + " signature(s)");
            assertThat(size).as("the request is kilobytes, never the image").isLessThan(32 * 1024);
            List<String> roles = new ArrayList<>();
            for (JsonNode e : q.path("signatures")) {
                lines.add(q.path("round").asInt() + " " + e.path("role").asText() + " " + e.path("id").asText());
                if (!roles.contains(e.path("role").asText())) {
                    roles.add(e.path("role").asText());
                }
            }
            List<String> a = new ArrayList<>(List.of("build", spec.toString(), "--out", out.toString(), "--dev-keys", devKeys.toString(), "-q"));
            for (String role : roles) {
                Path answer = work.resolve(out.getFileName() + "-r" + round + "-" + role + ".json");
                station.sign(req, role, answer);
                a.add("--inject");
                a.add(answer.toString());
            }
            a.add("--json");
            MainTest.Run in = run(a.toArray(String[]::new));
            assertThat(in.code()).as(in.out() + in.err()).isZero();
            // the signatures go in without building the root filesystem again
            List<String> cached = new ArrayList<>();
            new ObjectMapper().readTree(in.out()).path("cached").forEach(c -> cached.add(c.asText()));
            assertThat(cached).as("steps from the cache on injection").contains("rootfs");
        }
        assertThat(req).doesNotExist();
        assertThat(out.resolve(".cairn-signatures.json")).doesNotExist();
        return lines;
    }

    /** Signs every role of the request in OUT with PEM keys; returns the answer files. */
    static List<Path> signAll(String tag) throws IOException {
        Path req = split.resolve("signing-request.json");
        List<Path> answers = new ArrayList<>();
        List<String> roles = new ArrayList<>();
        json(req).path("signatures").forEach(e -> {
            if (!roles.contains(e.path("role").asText())) {
                roles.add(e.path("role").asText());
            }
        });
        for (String role : roles) {
            Path a = dir.resolve(tag + "-" + role + ".json");
            MainTest.Run r = sign(req, role, a, pemKey(role));
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.out()).contains("round " + json(req).path("round").asInt());
            answers.add(a);
        }
        return answers;
    }

    @Test
    @Order(1)
    void unsignedRequestSignInjectGivesTheOneShotBytes() throws Exception {
        MainTest.Run r = run("build", spec.toString(), "--out", split.toString(), "--dev-keys", keys.toString(), "--unsigned");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("NOT SIGNED YET: round 1", "roothash", "ipe-policy", "cosign");
        Path req = split.resolve("signing-request.json");
        assertThat(Files.size(req)).as("the request is kilobytes, never the image").isLessThan(32 * 1024);
        assertThat(split.resolve("manifest.json.p7s")).doesNotExist();
        assertThat(json(req).path("signatures").findValuesAsText("id")).containsExactly("roothash", "ipe-policy", "cosign");
        // an unsigned set never verifies
        MainTest.Run unsignedVerify = verify(split);
        assertThat(unsignedVerify.code()).isEqualTo(1);
        assertThat(unsignedVerify.err()).contains("not signed yet", "signing-request.json");
        // deterministic: the same unsigned build writes the same request
        byte[] first = Files.readAllBytes(req);
        assertThat(run("build", spec.toString(), "--out", split.toString(), "--dev-keys", keys.toString(), "--unsigned", "-q").code()).isZero();
        assertThat(Files.readAllBytes(req)).isEqualTo(first);

        List<String> rounds = complete(spec, split, keys, dir, pemStation(keys));
        assertThat(rounds).containsExactly("1 secureboot roothash", "1 secureboot ipe-policy", "1 manifest cosign",
                "2 pcr pcr11:sha256:enter-initrd", "2 pcr pcr11:sha256:enter-initrd:leave-initrd",
                "2 pcr pcr11:sha256:enter-initrd:leave-initrd:sysinit", "2 pcr pcr11:sha256:enter-initrd:leave-initrd:sysinit:ready",
                "3 secureboot authenticode:split.efi", "4 manifest manifest");

        MainTest.Run v = verify(split);
        assertThat(v.code()).as(v.out() + v.err()).isZero();
        assertThat(state(split)).isEqualTo(state(oneShot));

        // oracles no one here wrote
        ToolOracle.require("sbverify", "sbsigntool").runOk("--cert", keys.resolve("secureboot/db.crt").toString(),
                split.resolve("split.efi").toString());
        String rootHash = json(split.resolve("manifest.json")).path("verity").path("rootHash").asText();
        Path content = Files.writeString(dir.resolve("roothash.txt"), rootHash);
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", split.resolve("rootfs.roothash.p7s").toString(), "-content",
                content.toString(), "-certfile", keys.resolve("secureboot/db.crt").toString(), "-CAfile",
                keys.resolve("secureboot/db.crt").toString(), "-purpose", "any", "-out", "/dev/null");
        // each PCR 11 policy signature in the injected .pcrsig, checked by openssl with the PCR certificate's public key
        Path pcrsig = dir.resolve("split.pcrsig");
        ToolOracle.require("objcopy", "binutils").runOk("--dump-section", ".pcrsig=" + pcrsig, split.resolve("split.efi").toString(),
                dir.resolve("split-copy.efi").toString());
        Path pub = Files.writeString(dir.resolve("pcr.pub.pem"), openssl.runOk("x509", "-pubkey", "-noout", "-in",
                keys.resolve("pcr.crt").toString()).stdout());
        int checked = 0;
        for (JsonNode e : new ObjectMapper().readTree(Files.readString(pcrsig).strip()).path("sha256")) {
            Path pol = Files.write(dir.resolve("pol-" + checked + ".bin"), HexFormat.of().parseHex(e.path("pol").asText()));
            Path sig = Files.write(dir.resolve("pol-" + checked + ".sig"), java.util.Base64.getDecoder().decode(e.path("sig").asText()));
            assertThat(openssl.runOk("dgst", "-sha256", "-verify", pub.toString(), "-signature", sig.toString(), pol.toString()).stdout())
                    .contains("Verified OK");
            checked++;
        }
        assertThat(checked).isEqualTo(4);
        openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", split.resolve("manifest.json.p7s").toString(), "-content",
                split.resolve("manifest.json").toString(), "-CAfile", keys.resolve("ca.crt").toString(), "-purpose", "any", "-out", "/dev/null");
    }

    /** OUT back to an unsigned round-1 state; returns the request. */
    static Path unsigned() {
        MainTest.Run r = run("build", spec.toString(), "--out", split.toString(), "--dev-keys", keys.toString(), "--unsigned", "-q");
        assertThat(r.code()).as(r.err()).isZero();
        return split.resolve("signing-request.json");
    }

    static void assertRefused(MainTest.Run r, int code, Map<String, String> before, String... named) throws Exception {
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(code);
        assertThat(r.err()).contains(named);
        assertThat(state(split)).as("OUT unchanged").isEqualTo(before);
    }

    @Test
    @Order(2)
    void signatureOverOtherBytesIsRefusedNamingIt() throws Exception {
        Path req = unsigned();
        List<Path> answers = signAll("swap");
        Path sb = answers.stream().filter(p -> p.toString().endsWith("-secureboot.json")).findFirst().orElseThrow();
        ObjectNode a = (ObjectNode) json(sb);
        // the IPE policy's signature in the root hash's place: a real signature by the right key, over other bytes
        ObjectNode roothash = (ObjectNode) a.path("signatures").get(0);
        String ipeSig = a.path("signatures").get(1).path("signature").asText();
        roothash.put("signature", ipeSig);
        Path swapped = Files.write(dir.resolve("swapped.json"), new ObjectMapper().writeValueAsBytes(a));
        Map<String, String> before = state(split);
        List<Path> all = new ArrayList<>(answers);
        all.set(all.indexOf(sb), swapped);
        assertRefused(inject(all.toArray(Path[]::new)), 1, before, "roothash", "rootfs.roothash.p7s", "does not verify");
        assertThat(req).exists();
    }

    @Test
    @Order(3)
    void keyWithAnotherCertificateIsRefused() throws Exception {
        Path req = unsigned();
        Map<String, String> before = state(split);
        // the station: the manifest key offered for the secureboot entries; nothing written
        Path a = dir.resolve("wrong-key.json");
        MainTest.Run r = sign(req, "secureboot", a, pemKey("manifest"));
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(4);
        assertThat(r.err()).contains("roothash", "expects the key of certificate");
        assertThat(a).doesNotExist();
        // an answer claiming another certificate, injected anyway
        List<Path> answers = signAll("cert");
        Path sb = answers.stream().filter(p -> p.toString().endsWith("-secureboot.json")).findFirst().orElseThrow();
        ObjectNode o = (ObjectNode) json(sb);
        ((ObjectNode) o.path("signatures").get(1)).put("certificateSha256", "00".repeat(32));
        Files.write(sb, new ObjectMapper().writeValueAsBytes(o));
        assertRefused(inject(answers.toArray(Path[]::new)), 4, before, "ipe-policy", "ipe-policy.p7s", "certificate");
    }

    @Test
    @Order(4)
    void truncatedAnswerIsRefused() throws Exception {
        unsigned();
        Map<String, String> before = state(split);
        List<Path> answers = signAll("trunc");
        byte[] b = Files.readAllBytes(answers.get(0));
        Files.write(answers.get(0), java.util.Arrays.copyOf(b, b.length / 2));
        assertRefused(inject(answers.toArray(Path[]::new)), 3, before, answers.get(0).toString());
    }

    @Test
    @Order(5)
    void answerToAnEditedRequestIsRefused() throws Exception {
        Path req = unsigned();
        Map<String, String> before = state(split);
        // edited after the build: the root hash entry now asks for other bytes (with a matching dataSha256)
        ObjectNode q = (ObjectNode) json(req);
        ObjectNode e = (ObjectNode) q.path("signatures").get(0);
        byte[] other = "0000000000000000000000000000000000000000000000000000000000000000".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        e.put("data", java.util.Base64.getEncoder().encodeToString(other));
        e.put("dataSha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(other)));
        Path edited = Files.write(dir.resolve("edited-request.json"), new ObjectMapper().writeValueAsBytes(q));
        Path a = dir.resolve("edited-secureboot.json");
        assertThat(sign(edited, "secureboot", a, pemKey("secureboot")).code()).isZero();
        Path m = dir.resolve("edited-manifest.json");
        assertThat(sign(req, "manifest", m, pemKey("manifest")).code()).isZero();
        assertRefused(inject(a, m), 1, before, a.toString(), "answers another signing request");
        // the edited request put in OUT's place: the rebuild asks for the real root hash, which nobody signed
        Files.copy(edited, req, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path m2 = dir.resolve("edited-manifest2.json");
        assertThat(sign(req, "manifest", m2, pemKey("manifest")).code()).isZero();
        Map<String, String> tampered = state(split);
        assertRefused(inject(a, m2), 1, tampered, "roothash");
    }

    @Test
    @Order(6)
    void missingAnswerIsNamed() throws Exception {
        unsigned();
        Map<String, String> before = state(split);
        List<Path> answers = signAll("missing");
        Path sb = answers.stream().filter(p -> p.toString().endsWith("-secureboot.json")).findFirst().orElseThrow();
        assertRefused(inject(sb), 1, before, "no signature injected for", "cosign");
    }

    @Test
    @Order(7)
    void stationRefusesMalformedAndUnknownKinds() throws Exception {
        Path req = unsigned();
        ObjectNode q = (ObjectNode) json(req);
        ((ObjectNode) q.path("signatures").get(0)).put("kind", "gpg-detached");
        Path unknown = Files.write(dir.resolve("unknown-kind.json"), new ObjectMapper().writeValueAsBytes(q));
        Path a = dir.resolve("unknown-answer.json");
        MainTest.Run r = sign(unknown, "secureboot", a, pemKey("secureboot"));
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("unknown kind 'gpg-detached'");
        assertThat(a).doesNotExist();
        Path garbage = Files.writeString(dir.resolve("garbage.json"), "{\"mediaType\": \"application/vnd.cairn.signing-request.v1+json\"");
        r = sign(garbage, "secureboot", a, pemKey("secureboot"));
        assertThat(r.code()).isEqualTo(3);
        assertThat(a).doesNotExist();
        r = sign(req, "secureboot", a, List.of("--json", "--key", keys.resolve("secureboot/db.key").toString(), "--cert",
                keys.resolve("secureboot/db.crt").toString()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(json(dir.resolve("unknown-answer.json")).path("role").asText()).isEqualTo("secureboot");
        assertThat(new ObjectMapper().readTree(r.out()).path("signatures").findValuesAsText("id")).containsExactly("roothash", "ipe-policy");
    }

    @Test
    @Order(8)
    void perRoleDeferInTheSpecAsksOnlyForThatRole() throws Exception {
        // the manifest key (and the cosign signature, which uses it) on a station; secureboot's dev key signs here
        Path deferSpec = Files.writeString(dir.resolve("defer.yaml"), spec().replace("  manifest: dev",
                "  manifest: {cert: " + keys.resolve("signer.crt") + ", defer: true}"));
        Path out = dir.resolve("defer");
        MainTest.Run r = run("build", deferSpec.toString(), "--out", out.toString(), "--dev-keys", keys.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("NOT SIGNED YET: round 1");
        List<String> rounds = complete(deferSpec, out, keys, dir, pemStation(keys));
        assertThat(rounds).containsExactly("1 manifest cosign", "4 manifest manifest");
        Map<String, String> got = state(out);
        Map<String, String> want = state(oneShot);
        // the spec's own digest differs (it names the deferred key); everything the spec does not name is identical
        got.remove("manifest.json");
        got.remove("manifest.json.p7s");
        want.remove("manifest.json");
        want.remove("manifest.json.p7s");
        assertThat(got).isEqualTo(want);
        assertThat(run("verify", out.toString(), "--ca", keys.resolve("ca.crt").toString(), "--db-cert",
                keys.resolve("secureboot/db.crt").toString()).code()).isZero();
    }

    @Test
    @Order(9)
    void aSoftHsmStationGivesTheSameBytes() throws Exception {
        // the secureboot role's key (the dev db key) imported into a fresh SoftHSM token; the station is the packaged launcher
        Path launcher = LauncherIT.locate();
        ToolOracle softhsm = ToolOracle.require("softhsm2-util", "softhsm2");
        ToolOracle p11 = ToolOracle.require("pkcs11-tool", "opensc");
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path module = Stream.of("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so").map(Path::of).filter(Files::isRegularFile).findFirst()
                .orElseThrow(() -> new AssertionError("libsofthsm2.so not found"));
        Path tokens = Files.createDirectories(dir.resolve("tokens"));
        Path conf = Files.writeString(dir.resolve("softhsm2.conf"), "directories.tokendir = " + tokens
                + "\nobjectstore.backend = file\nlog.level = ERROR\n");
        Map<String, String> env = Map.of("SOFTHSM2_CONF", conf.toString(), "TOKEN_PIN", "split-4711");
        exec(env, softhsm.executable().toString(), "--init-token", "--free", "--label", "station", "--pin", "split-4711", "--so-pin", "so-4711");
        Path der = dir.resolve("db.key.der");
        openssl.runOk("pkey", "-in", keys.resolve("secureboot/db.key").toString(), "-outform", "DER", "-out", der.toString());
        Path crtDer = dir.resolve("db.crt.der");
        openssl.runOk("x509", "-in", keys.resolve("secureboot/db.crt").toString(), "-outform", "DER", "-out", crtDer.toString());
        exec(env, p11.executable().toString(), "--module", module.toString(), "--token-label", "station", "--login", "--pin", "split-4711",
                "--write-object", der.toString(), "--type", "privkey", "--id", "01", "--label", "db");
        exec(env, p11.executable().toString(), "--module", module.toString(), "--token-label", "station", "--login", "--pin", "split-4711",
                "--write-object", crtDer.toString(), "--type", "cert", "--id", "01", "--label", "db");
        Path out = dir.resolve("hsm");
        MainTest.Run r = run("build", spec.toString(), "--out", out.toString(), "--dev-keys", keys.toString(), "--unsigned", "-q");
        assertThat(r.code()).as(r.err()).isZero();
        Station pem = pemStation(keys);
        List<String> tokenSigned = new ArrayList<>();
        List<String> rounds = complete(spec, out, keys, dir, (request, role, answer) -> {
            if (!role.equals("secureboot")) {
                pem.sign(request, role, answer);
                return;
            }
            String[] o = exec(env, launcher.toString(), "sign", "request", request.toString(), "--role", role, "--out", answer.toString(),
                    "--pkcs11-module", module.toString(), "--pkcs11-token", "station", "--pkcs11-key", "db", "--pkcs11-pin-env", "TOKEN_PIN");
            assertThat(o[0]).contains("signature(s) as secureboot");
            tokenSigned.add(json(answer).path("signatures").findValuesAsText("id").toString());
        });
        assertThat(tokenSigned).containsExactly("[roothash, ipe-policy]", "[authenticode:split.efi]");
        assertThat(rounds).hasSize(9);
        assertThat(state(out)).isEqualTo(state(oneShot));
    }

    /** Runs a command with {@code env}; fails on a non-zero exit; returns {stdout, stderr}. */
    static String[] exec(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Path o = Files.createTempFile(dir, "o", ".txt");
        Path e = Files.createTempFile(dir, "e", ".txt");
        Process p = pb.redirectOutput(o.toFile()).redirectError(e.toFile()).start();
        assertThat(p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES)).as(String.join(" ", cmd)).isTrue();
        String[] r = {Files.readString(o), Files.readString(e)};
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + r[0] + r[1]).isZero();
        return r;
    }
}
