package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The step cache shared through a registry (docker-registry 2.8 on 127.0.0.1): a build with
 * {@code --cache-to} fills it; a build of the same spec and keys in a fresh output directory with
 * {@code --cache-from} takes rootfs, initramfs and UKI from it and writes the same manifest bytes;
 * a tampered blob is rejected (warning, step rebuilt, same result); a registry that is down is a
 * warning and a correct build.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BuildCacheIT {
    @TempDir
    static Path dir;
    static RegistryFixture registry;
    static Path spec;
    static byte[] coldManifest;
    static String cache;

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryFixture.start(dir.resolve("registry"), null, null);
        spec = dev.cairn.testing.ExampleSpec.write(dev.cairn.testing.ExampleSpec.examplesDir(), Files.createDirectories(dir.resolve("example")));
        cache = registry.host() + "/team/cairn-cache";
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (registry != null) {
            registry.close();
        }
    }

    static JsonNode json(MainTest.Run r) throws IOException {
        assertThat(r.code()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }

    static Map<String, JsonNode> steps(JsonNode build) {
        Map<String, JsonNode> m = new HashMap<>();
        build.path("steps").forEach(s -> m.put(s.path("step").asText(), s));
        return m;
    }

    @Test
    @Order(1)
    void aColdBuildFillsTheCacheAndAFreshDirectoryHitsIt() throws Exception {
        Path cold = dir.resolve("cold");
        JsonNode first = json(run("build", spec.toString(), "--out", cold.toString(), "--cache-to", cache, "--json"));
        Map<String, JsonNode> s1 = steps(first);
        for (String step : new String[] {"rootfs", "initramfs", "uki"}) {
            assertThat(s1.get(step).path("cache").asText()).as(step).isEqualTo("miss");
            assertThat(s1.get(step).path("key").asText()).as(step).matches("[0-9a-f]{64}");
        }
        for (String step : new String[] {"roothash", "ipe", "manifest"}) {
            assertThat(s1.get(step).path("cache").asText()).as(step + " signs: never cached").isEqualTo("not-cacheable");
        }
        coldManifest = Files.readAllBytes(cold.resolve("manifest.json"));

        Path warm = dir.resolve("warm");
        MainTest.Run warmRun = run("build", spec.toString(), "--out", warm.toString(), "--cache-from", cache, "--json");
        JsonNode second = json(warmRun);
        Map<String, JsonNode> s2 = steps(second);
        for (String step : new String[] {"rootfs", "initramfs", "uki"}) {
            assertThat(s2.get(step).path("cache").asText()).as(step + " " + warmRun.err()).isEqualTo("hit");
            assertThat(s2.get(step).path("source").asText()).as(step).isEqualTo(cache);
            assertThat(s2.get(step).path("key").asText()).as(step).isEqualTo(s1.get(step).path("key").asText());
            assertThat(s2.get(step).path("keyMaterial")).as(step).isNotEmpty();
        }
        assertThat(Files.readAllBytes(warm.resolve("manifest.json"))).as("same manifest bytes from the cache").isEqualTo(coldManifest);
        Path keys = spec.getParent().resolve("keys");
        assertThat(run("verify", warm.toString(), "--ca", keys.resolve("ca.crt").toString(), "--db-cert", keys.resolve("db.crt").toString())
                .code()).isZero();
        // the key material names contents, never where the checkout or the output lies
        assertThat(second.path("steps").toString()).doesNotContain(dir.toString());

        MainTest.Run explained = run("build", spec.toString(), "--out", dir.resolve("explained").toString(), "--cache-from", cache,
                "--explain-cache", "-q");
        assertThat(explained.code()).as(explained.err()).isZero();
        assertThat(explained.out()).contains("rootfs", "hit", "from " + cache, "key " + s1.get("rootfs").path("key").asText(),
                "comp=ZSTD");
    }

    @Test
    @Order(2)
    void aTamperedBlobIsRejectedAndTheStepRebuilt() throws Exception {
        JsonNode cold = new ObjectMapper().readTree(coldManifest);
        String rootfs = null;
        for (JsonNode a : cold.path("artifacts")) {
            if (a.path("name").asText().equals("rootfs")) {
                rootfs = a.path("sha256").asText();
            }
        }
        Path blob = registry.dir.resolve("data/docker/registry/v2/blobs/sha256/" + rootfs.substring(0, 2) + "/" + rootfs + "/data");
        assertThat(blob).exists();
        try (RandomAccessFile f = new RandomAccessFile(blob.toFile(), "rw")) {
            f.seek(100);
            int b = f.read();
            f.seek(100);
            f.write(b ^ 0x01);
        }
        MainTest.Run r = run("build", spec.toString(), "--out", dir.resolve("tampered").toString(), "--cache-from", cache, "--json");
        JsonNode out = json(r);
        assertThat(r.err()).contains("warning", "rootfs-" + steps(out).get("rootfs").path("key").asText(), "not used");
        assertThat(steps(out).get("rootfs").path("cache").asText()).isEqualTo("miss");
        assertThat(Files.readAllBytes(dir.resolve("tampered/manifest.json"))).isEqualTo(coldManifest);
        try (RandomAccessFile f = new RandomAccessFile(blob.toFile(), "rw")) { // mended again for the tests after this one
            f.seek(100);
            int b = f.read();
            f.seek(100);
            f.write(b ^ 0x01);
        }
    }

    @Test
    @Order(3)
    void aRegistryThatIsDownIsAWarningAndACorrectBuild() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String down = "127.0.0.1:" + port + "/team/cairn-cache";
        MainTest.Run r = run("build", spec.toString(), "--out", dir.resolve("down").toString(), "--cache-from", down, "--cache-to", down,
                "--json");
        JsonNode out = json(r);
        assertThat(r.err()).contains("warning", "step cache " + down, "not asked again");
        assertThat(r.err().split("step cache " + down, -1)).as("one warning per direction, then the registry is left alone: " + r.err())
                .hasSizeLessThanOrEqualTo(3);
        assertThat(steps(out).get("rootfs").path("cache").asText()).isEqualTo("miss");
        assertThat(Files.readAllBytes(dir.resolve("down/manifest.json"))).isEqualTo(coldManifest);
    }

    @Test
    @Order(4)
    void aUkiSignedByTheSameKeyOverOtherContentIsNotTakenFromTheCache() throws Exception {
        // a poisoned entry: the UKI of another build (other command line, same keys), relabelled with this build's key
        Path other = dev.cairn.testing.ExampleSpec.write(dev.cairn.testing.ExampleSpec.examplesDir(), Files.createDirectories(dir.resolve("other")));
        Files.writeString(other, Files.readString(other).replace("panic=-1", "panic=-2"));
        String poisoned = registry.host() + "/team/poisoned";
        JsonNode b = json(run("build", other.toString(), "--out", dir.resolve("other-out").toString(), "--cache-to", poisoned, "--json"));
        JsonNode a = json(run("build", spec.toString(), "--out", dir.resolve("a-out").toString(), "--json", "--force"));
        String keyA = steps(a).get("uki").path("key").asText();
        String keyB = steps(b).get("uki").path("key").asText();
        assertThat(keyA).isNotEqualTo(keyB);
        dev.cairn.oci.RegistryReference repo = dev.cairn.oci.RegistryReference.parse(poisoned + ":x");
        try (dev.cairn.oci.RegistryClient c = new dev.cairn.oci.RegistryClient(dev.cairn.oci.RegistryClient.Options.defaults(
                h -> java.util.Optional.empty()))) {
            String m = new String(c.getManifest(repo, "uki-" + keyB).bytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(m).contains(keyB);
            c.putManifest(repo, "uki-" + keyA, m.replace(keyB, keyA).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    dev.cairn.oci.MediaTypes.MANIFEST);
        }
        MainTest.Run r = run("build", spec.toString(), "--out", dir.resolve("poisoned-out").toString(), "--cache-from", poisoned, "--json");
        JsonNode out = json(r);
        assertThat(steps(out).get("uki").path("cache").asText()).as(r.err()).isEqualTo("miss");
        assertThat(r.err()).contains("cached UKI's sections", ".cmdline");
        assertThat(Files.readAllBytes(dir.resolve("poisoned-out/manifest.json"))).isEqualTo(coldManifest);
    }

    @Test
    @Order(5)
    void aResultJsonThatClaimsWhatItsFilesDoNotProveIsNotUsed() throws Exception {
        // valid blobs, but a result.json whose hash offset would put more arguments on the signed kernel command line
        JsonNode cold = json(run("build", spec.toString(), "--out", dir.resolve("again").toString(), "--cache-from", cache, "--json",
                "--force"));
        String key = steps(cold).get("initramfs").path("key").asText();
        String rootfsKey = steps(cold).get("rootfs").path("key").asText();
        String liar = registry.host() + "/team/liar";
        dev.cairn.oci.RegistryReference repo = dev.cairn.oci.RegistryReference.parse(liar + ":x");
        dev.cairn.oci.RegistryReference src = dev.cairn.oci.RegistryReference.parse(cache + ":x");
        try (dev.cairn.oci.RegistryClient c = new dev.cairn.oci.RegistryClient(dev.cairn.oci.RegistryClient.Options.defaults(
                h -> java.util.Optional.empty()))) {
            // the cold build's rootfs entry, its result.json lying
            dev.cairn.oci.RegistryReference freshRef = src;
            com.fasterxml.jackson.databind.node.ObjectNode m = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper()
                    .readTree(c.getManifest(freshRef, "rootfs-" + rootfsKey).bytes());
            com.fasterxml.jackson.databind.node.ArrayNode layers = (com.fasterxml.jackson.databind.node.ArrayNode) m.path("layers");
            for (int i = 0; i < layers.size(); i++) {
                com.fasterxml.jackson.databind.node.ObjectNode l = (com.fasterxml.jackson.databind.node.ObjectNode) layers.get(i);
                dev.cairn.oci.Descriptor d = dev.cairn.oci.Descriptor.of(l.path("mediaType").asText(),
                        dev.cairn.oci.Digest.of(l.path("digest").asText()), l.path("size").asLong());
                byte[] blob;
                try (java.io.InputStream in = c.getBlob(freshRef, d)) {
                    blob = in.readAllBytes();
                }
                if (l.path("annotations").path("org.opencontainers.image.title").asText().equals("result.json")) {
                    com.fasterxml.jackson.databind.node.ObjectNode rj = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(blob);
                    ((com.fasterxml.jackson.databind.node.ObjectNode) rj.path("verity")).put("hashOffset", "4096 init=/bin/sh");
                    blob = new ObjectMapper().writeValueAsBytes(rj);
                    l.put("digest", dev.cairn.oci.Digest.ofBytes(blob).toString());
                    l.put("size", blob.length);
                }
                byte[] bytes = blob;
                c.pushBlob(repo, dev.cairn.oci.Descriptor.of(l.path("mediaType").asText(), dev.cairn.oci.Digest.of(l.path("digest").asText()),
                        bytes.length), off -> new java.io.ByteArrayInputStream(bytes, (int) off, bytes.length - (int) off));
            }
            c.pushBlob(repo, dev.cairn.oci.Descriptor.empty(), off -> new java.io.ByteArrayInputStream(new byte[] {'{', '}'}, (int) off,
                    2 - (int) off));
            c.putManifest(repo, "rootfs-" + rootfsKey, new ObjectMapper().writeValueAsBytes(m), dev.cairn.oci.MediaTypes.MANIFEST);
        }
        assertThat(key).isNotEmpty();
        MainTest.Run r = run("build", spec.toString(), "--out", dir.resolve("lied-to").toString(), "--cache-from", liar, "--json");
        JsonNode out = json(r);
        assertThat(r.err()).contains("rootfs entry from " + liar + " is not used", "verity.hashOffset");
        assertThat(steps(out).get("rootfs").path("cache").asText()).isEqualTo("miss");
        assertThat(Files.readAllBytes(dir.resolve("lied-to/manifest.json"))).isEqualTo(coldManifest);
        assertThat(Files.readString(dir.resolve("lied-to/manifest.json"))).doesNotContain("init=/bin/sh");
    }

    @Test
    @Order(6)
    void aCacheRefWithATagIsRefused() {
        MainTest.Run r = run("build", spec.toString(), "--out", dir.resolve("tagged").toString(), "--cache-from", cache + ":latest");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("--cache-from", "without tag");
        assertThat(dir.resolve("tagged")).doesNotExist();
    }
}
