package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.ImageSetVerifier;
import dev.cairn.signing.CmsOptions;
import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.testing.boot.DebianBootFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn build} + {@code cairn verify} on Debian's stub and kernel: a fresh build verifies;
 * each broken link is named (flipped bytes in the SquashFS, the hash tree, the UKI, the policy,
 * the manifest; a UKI from another build; a policy trusting another root hash; an expired or
 * untrusted signer); a rebuild comes from the cache with identical bytes; two builds through the
 * packaged launcher under different umask, locale, time zone and temp dirs are byte-identical;
 * Ctrl-C during a build leaves no artifact and the next run completes.
 */
class BuildCommandIT {
    @TempDir
    static Path dir;
    static Path out;
    static Path devKeys;
    static Path spec;

    static String spec(String name, Path rootfs) {
        return String.join("\n",
                "apiVersion: cairn.dev/v1",
                "image:",
                "  name: " + name,
                "  version: 2.1.0",
                "sourceDateEpoch: 1700000000",
                "rootfs:",
                "  dir: " + rootfs,
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
                "  reference: registry.example/cairn/" + name,
                "");
    }

    @BeforeAll
    static void buildOnce() throws IOException {
        Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(dir.resolve("rootfs/etc/cairn-marker"), "verified root\n");
        Files.write(dir.resolve("rootfs/etc/data.bin"), dev.cairn.testing.SeededData.bytes(7, 300_000));
        Files.createDirectories(dir.resolve("initramfs"));
        Files.writeString(dir.resolve("initramfs/init"), "#!/bin/sh\necho test\n");
        out = dir.resolve("out");
        devKeys = dir.resolve("keys");
        spec = dir.resolve("image.yaml");
        Files.writeString(spec, spec("itest", dir.resolve("rootfs")));
        MainTest.Run r = run("build", spec.toString(), "--out", out.toString(), "--dev-keys", devKeys.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("DEVELOPMENT keys");
    }

    static MainTest.Run verify(Path set) {
        return run("verify", set.toString(), "--ca", devKeys.resolve("ca.crt").toString(), "--db-cert",
                devKeys.resolve("secureboot/db.crt").toString());
    }

    static Path copy(String name) throws IOException {
        Path c = dir.resolve(name);
        try (Stream<Path> s = Files.walk(out)) {
            for (Path p : s.toList()) {
                Path t = c.resolve(out.relativize(p).toString());
                if (p.startsWith(out.resolve(".cairn-cache")) || p.startsWith(out.resolve("dev-keys"))) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return c;
    }

    static void flip(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x01);
        }
    }

    static com.fasterxml.jackson.databind.JsonNode manifest(Path set) throws IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(set.resolve("manifest.json").toFile());
    }

    static void assertBroken(Path set, String link, String detail) {
        MainTest.Run r = verify(set);
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).containsPattern("FAILED +" + java.util.regex.Pattern.quote(link));
        assertThat(r.err()).contains("verification failed: " + link).contains(detail);
    }

    @Test
    void freshBuildVerifiesLinkByLink() throws Exception {
        MainTest.Run r = verify(out);
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("ok     manifest signature", "ok     dm-verity tree", "ok     UKI command line",
                "ok     IPE policy ", "ok     PCR 11 prediction", "ok     OCI cosign signature").doesNotContain("FAILED");
        // without --db-cert the certificates the signed manifest pins are the trust
        assertThat(run("verify", out.toString(), "--ca", devKeys.resolve("ca.crt").toString()).code()).isZero();
        MainTest.Run json = run("verify", out.resolve("manifest.json").toString(), "--ca", devKeys.resolve("ca.crt").toString(), "--json");
        assertThat(json.code()).isZero();
        assertThat(json.out()).contains("\"verified\" : true");
        com.fasterxml.jackson.databind.JsonNode m = manifest(out);
        String root = m.path("verity").path("rootHash").asText();
        assertThat(m.path("uki").path("cmdline").asText()).contains("cairn.verity.roothash=" + root);
        assertThat(Files.readString(out.resolve("ipe-policy.txt"))).contains("op=EXECUTE dmverity_roothash=sha256:" + root + " action=ALLOW");
        assertThat(m.path("keys").path("secureboot").path("development").asBoolean()).isTrue();
    }

    @Test
    void flippedSquashfsByteIsTheVerityLink() throws Exception {
        Path c = copy("flip-squashfs");
        flip(c.resolve("rootfs.img"), 100);
        assertBroken(c, "artifact rootfs", "sha256");
        assertThat(verify(c).out()).containsPattern("FAILED +dm-verity tree +the SquashFS or its hash tree is corrupted: data block 0");
    }

    @Test
    void flippedHashTreeByte() throws Exception {
        Path c = copy("flip-tree");
        long offset = manifest(c).path("verity").path("hashOffset").asLong();
        flip(c.resolve("rootfs.img"), offset + 4096 + 5);
        assertBroken(c, "artifact rootfs", "sha256");
        assertThat(verify(c).out()).containsPattern("FAILED +dm-verity tree");
    }

    @Test
    void flippedUkiByteBreaksItsSignature() throws Exception {
        Path c = copy("flip-uki");
        flip(c.resolve("itest.efi"), Files.size(c.resolve("itest.efi")) / 2);
        assertBroken(c, "artifact uki", "itest.efi has sha256");
        assertThat(verify(c).out()).containsPattern("FAILED +UKI signature");
    }

    @Test
    void flippedPolicyByte() throws Exception {
        Path c = copy("flip-policy");
        flip(c.resolve("ipe-policy.txt"), 3);
        assertBroken(c, "artifact ipe-policy", "ipe-policy.txt has sha256");
        assertThat(verify(c).out()).containsPattern("FAILED +IPE policy signature +the signed policy's content differs");
    }

    @Test
    void flippedManifestByteBreaksTheWholeChain() throws Exception {
        Path c = copy("flip-manifest");
        byte[] b = Files.readAllBytes(c.resolve("manifest.json"));
        int at = new String(b, StandardCharsets.UTF_8).indexOf("rootHash") + 15;
        flip(c.resolve("manifest.json"), at);
        assertBroken(c, "manifest signature", "does not verify");
    }

    @Test
    void ukiFromAnotherBuild() throws Exception {
        Path rootfs2 = dir.resolve("rootfs2");
        Files.createDirectories(rootfs2.resolve("etc"));
        Files.writeString(rootfs2.resolve("etc/cairn-marker"), "another root\n");
        Path spec2 = dir.resolve("other.yaml");
        Files.writeString(spec2, spec("itest", rootfs2));
        Path out2 = dir.resolve("out2");
        assertThat(run("build", spec2.toString(), "--out", out2.toString(), "--dev-keys", devKeys.toString(), "-q").code()).isZero();
        Path c = copy("foreign-uki");
        Files.copy(out2.resolve("itest.efi"), c.resolve("itest.efi"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertBroken(c, "artifact uki", "itest.efi has sha256");
        assertThat(verify(c).out()).containsPattern("FAILED +UKI command line +cairn.verity.roothash=[0-9a-f]{64} on the command line is not "
                + "the image's root hash");
    }

    @Test
    void policyTrustingAnotherRootHashEvenWhenProperlySigned() throws Exception {
        Path c = copy("other-policy");
        String root = manifest(c).path("verity").path("rootHash").asText();
        String other = "ab".repeat(32);
        byte[] policy = Files.readString(c.resolve("ipe-policy.txt")).replace(root, other).getBytes(StandardCharsets.UTF_8);
        Files.write(c.resolve("ipe-policy.txt"), policy);
        KeyMaterial db = KeyLoader.fromFiles(devKeys.resolve("secureboot/db.key"), devKeys.resolve("secureboot/db.crt"), null);
        Files.write(c.resolve("ipe-policy.p7s"), CmsSigner.sign(policy, db, new CmsOptions(false, true, false, "SHA-256")));
        assertBroken(c, "artifact ipe-policy", "ipe-policy.txt has sha256");
        assertThat(verify(c).out()).containsPattern("FAILED +IPE policy +the policy trusts sha256:" + other + ", not exactly the image's");
    }

    @Test
    void expiredOrUntrustedSigner() throws Exception {
        X509Certificate ca = KeyLoader.loadCertificates(devKeys.resolve("ca.crt")).get(0);
        // dev certificates are valid ten years: in eleven the manifest signer has expired
        ImageSetVerifier.Report later = ImageSetVerifier.verify(out, ca, null, Instant.now().plus(Duration.ofDays(11 * 366)));
        assertThat(later.ok()).isFalse();
        assertThat(later.firstFailure()).startsWith("manifest signature").contains("expired");
        KeyMaterial stranger = dev.cairn.signing.DevelopmentPki.ca("stranger", 2048, Instant.now(), Duration.ofDays(1));
        Path strangerCa = dir.resolve("stranger.crt");
        Files.writeString(strangerCa, dev.cairn.signing.Pem.encode("CERTIFICATE", stranger.certificate().getEncoded()));
        MainTest.Run r = run("verify", out.toString(), "--ca", strangerCa.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("verification failed: manifest signature", "is not trusted");
        MainTest.Run wrongDb = run("verify", out.toString(), "--ca", devKeys.resolve("ca.crt").toString(), "--db-cert", strangerCa.toString());
        assertThat(wrongDb.code()).isEqualTo(1);
        assertThat(wrongDb.out()).containsPattern("FAILED +root-hash signature").containsPattern("FAILED +UKI signature");
    }

    @Test
    void rebuildComesFromTheCacheWithTheSameBytes() throws Exception {
        byte[] before = Files.readAllBytes(out.resolve("manifest.json"));
        MainTest.Run r = run("build", spec.toString(), "--out", out.toString(), "--dev-keys", devKeys.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"cached\" : [ \"rootfs\", \"initramfs\", \"uki\" ]");
        assertThat(Files.readAllBytes(out.resolve("manifest.json"))).isEqualTo(before);
        assertThat(out.resolve(".cairn-staging")).doesNotExist();
        MainTest.Run forced = run("build", spec.toString(), "--out", out.toString(), "--dev-keys", devKeys.toString(), "--force", "--json");
        assertThat(forced.out()).contains("\"cached\" : [ ]");
        assertThat(Files.readAllBytes(out.resolve("manifest.json"))).isEqualTo(before);
    }

    @Test
    void launcherBuildsAreByteIdenticalAcrossUmaskLocaleTimeZoneAndTempDirs() throws Exception {
        Path launcher = LauncherIT.locate();
        String cmd = SquashfsLauncherIT.q(launcher) + " build " + SquashfsLauncherIT.q(spec) + " -q --dev-keys "
                + SquashfsLauncherIT.q(devKeys) + " --out %s";
        Files.createDirectories(dir.resolve("tmp1"));
        Files.createDirectories(dir.resolve("tmp2"));
        SquashfsLauncherIT.sh(dir, "umask 077; export LC_ALL=C LANG=C TZ=UTC TMPDIR=" + dir.resolve("tmp1") + "; unset SOURCE_DATE_EPOCH; "
                + String.format(cmd, SquashfsLauncherIT.q(dir.resolve("r1")))).assertExit(0);
        SquashfsLauncherIT.sh(dir, "umask 022; export LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 TZ=Asia/Kolkata TMPDIR=" + dir.resolve("tmp2")
                + "; unset SOURCE_DATE_EPOCH; " + String.format(cmd, SquashfsLauncherIT.q(dir.resolve("r2")))).assertExit(0);
        assertThat(Files.readAllBytes(dir.resolve("r1/manifest.json"))).isEqualTo(Files.readAllBytes(dir.resolve("r2/manifest.json")));
        assertThat(Files.readAllBytes(dir.resolve("r1/manifest.json"))).isEqualTo(Files.readAllBytes(out.resolve("manifest.json")));
        for (com.fasterxml.jackson.databind.JsonNode a : manifest(dir.resolve("r1")).path("artifacts")) {
            String p = a.path("path").asText();
            assertThat(Files.readAllBytes(dir.resolve("r1").resolve(p))).as(p).isEqualTo(Files.readAllBytes(dir.resolve("r2").resolve(p)));
        }
        assertThat(tree(dir.resolve("r1/oci"))).isEqualTo(tree(dir.resolve("r2/oci")));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("r1/itest.efi"))))
                .isEqualTo("rw-r--r--");
    }

    private static List<String> tree(Path root) throws IOException {
        List<String> l = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted().toList()) {
                l.add(root.relativize(p) + (Files.isRegularFile(p) ? " " + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))) : ""));
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return l;
    }

    @Test
    void outputsPushSendsTheImageItsArtifactsAndSignatureToTheRegistry() throws Exception {
        dev.cairn.testing.ToolOracle skopeo = dev.cairn.testing.ToolOracle.require("skopeo", "skopeo");
        try (RegistryFixture reg = RegistryFixture.start(dir.resolve("registry"), null, null)) {
            String repo = reg.host() + "/cairn/itest";
            Path pushSpec = dir.resolve("push.yaml");
            Files.writeString(pushSpec, Files.readString(spec).replace("  reference: registry.example/cairn/itest",
                    "  push: " + repo + ":2.1.0"));
            Path pushOut = dir.resolve("push-out");
            MainTest.Run r = run("build", pushSpec.toString(), "--out", pushOut.toString(), "--dev-keys", devKeys.toString(), "--json");
            assertThat(r.code()).as(r.err()).isZero();
            com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
            String digest = j.path("manifest").path("oci").path("manifest").asText();
            assertThat(j.path("pushed").asText()).isEqualTo(repo + ":2.1.0@" + digest);
            assertThat(j.path("manifest").path("oci").path("reference").asText()).as("cosign names where the image lives").isEqualTo(repo);
            String raw = skopeo.runOk("inspect", "--raw", "--tls-verify=false", "docker://" + repo + ":2.1.0").stdout();
            assertThat("sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(raw.getBytes(StandardCharsets.UTF_8)))).isEqualTo(digest);
            // the UKI and policy artifacts sit in the referrers fallback index, the cosign signature at its tag
            String referrers = skopeo.runOk("inspect", "--raw", "--tls-verify=false", "docker://" + repo + ":" + digest.replace(':', '-'))
                    .stdout();
            assertThat(referrers).contains("application/vnd.cairn.uki.v1+efi", "application/vnd.cairn.ipe-policy.v1");
            MainTest.Run v = run("oci", "verify", repo + ":2.1.0", "--ca", devKeys.resolve("ca.crt").toString());
            assertThat(v.code()).as(v.out() + v.err()).isZero();
        }
    }

    @Test
    void interruptedBuildLeavesNothingAndTheNextRunCompletes() throws Exception {
        Path big = dir.resolve("bigroot");
        Files.createDirectories(big.resolve("data"));
        for (int i = 0; i < 24; i++) {
            Files.write(big.resolve("data/f" + i), dev.cairn.testing.SeededData.bytes(100 + i, 8 << 20));
        }
        Path bigSpec = dir.resolve("big.yaml");
        Files.writeString(bigSpec, spec("bigimage", big).replace("  dir: " + big, "  dir: " + big + "\n  compression: gzip"));
        Path bigOut = dir.resolve("big-out");
        Process p = new ProcessBuilder(LauncherIT.locate().toString(), "build", bigSpec.toString(), "--out", bigOut.toString(), "--dev-keys",
                devKeys.toString(), "--threads", "1").redirectOutput(dir.resolve("big.out").toFile())
                .redirectError(dir.resolve("big.err").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!Files.exists(bigOut.resolve(".cairn-staging/rootfs.img")) && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(50);
        }
        assertThat(p.isAlive()).as("still compressing when interrupted").isTrue();
        Thread.sleep(300);
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        try (Stream<Path> s = Files.list(bigOut)) {
            assertThat(s.map(x -> x.getFileName().toString()).toList()).as("only the keys survive an interrupted first build")
                    .allMatch(n -> n.equals(".cairn-cache") || n.equals("dev-keys") || n.equals(".cairn-lock"));
        }
        MainTest.Run again = run("build", bigSpec.toString(), "--out", bigOut.toString(), "--dev-keys", devKeys.toString(), "-q");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(run("verify", bigOut.toString(), "--ca", devKeys.resolve("ca.crt").toString()).code()).isZero();
    }
}
