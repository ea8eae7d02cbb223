package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cairn's registry client against Debian's docker-registry 2.8 (anonymous and htpasswd basic
 * auth), with skopeo as the independent reader and writer.
 */
class OciRegistryIT {
    @TempDir
    static Path shared;
    static RegistryFixture anon;
    static RegistryFixture basic;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        anon = RegistryFixture.start(shared.resolve("anon"), null, null);
        basic = RegistryFixture.start(shared.resolve("basic"), "alice", "s3cret");
    }

    @AfterAll
    static void stop() throws Exception {
        if (anon != null) {
            anon.close();
        }
        if (basic != null) {
            basic.close();
        }
    }

    static MainTest.Run ok(String... args) {
        MainTest.Run r = MainTest.run(args);
        assertThat(r.code()).as(String.join(" ", args) + "\n" + r.err()).isZero();
        return r;
    }

    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\" : \"([^\"]+)\"").matcher(json);
        assertThat(m.find()).as(key).isTrue();
        return m.group(1);
    }

    Path tree(String name, int size) throws IOException {
        Path t = dir.resolve(name);
        Files.createDirectories(t.resolve("etc"));
        Files.writeString(t.resolve("etc/os-release"), "ID=cairn\n");
        Files.write(t.resolve("payload"), SeededData.bytes(name.hashCode(), size));
        return t;
    }

    /** The blob names of a layout, each checked to be the sha256 of its content. */
    static java.util.Set<String> blobs(Path layout) throws IOException {
        java.util.Set<String> names = new java.util.TreeSet<>();
        try (Stream<Path> s = Files.list(layout.resolve("blobs/sha256"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                assertThat(dev.cairn.oci.Digest.ofBytes(Files.readAllBytes(p)).hex()).as(name).isEqualTo(name);
                names.add(name);
            }
        }
        return names;
    }

    @Test
    void pushReadBySkopeoCopiedBackAndPulledWithEveryDigestKept() throws IOException {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path lay = dir.resolve("lay");
        String img = field(ok("oci", "layer", "add", lay + ":img", tree("t1", 300_000).toString(), "--type", "tar+gzip", "--json").out(), "manifest");
        String sq = field(ok("oci", "layer", "add", lay + ":sq", tree("t2", 300_000).toString(), "--type", "squashfs", "--json").out(), "manifest");
        Files.writeString(dir.resolve("policy.txt"), "op=EVALUATE action=DENY\n");
        String art = field(ok("oci", "artifact", "add", lay + ":policy", "--artifact-type", "application/vnd.cairn.ipe.policy.v1",
                dir.resolve("policy.txt").toString(), "--subject", "sq", "--json").out(), "manifest");
        Files.writeString(dir.resolve("policy.p7s"), "not really a signature");
        String sig = field(ok("oci", "artifact", "add", lay + ":policy-sig", "--artifact-type", "application/pkcs7-signature",
                dir.resolve("policy.p7s").toString(), "--subject", "policy", "--json").out(), "manifest");
        String repo = anon.host() + "/cairn/os";
        for (String tag : new String[] {"img", "sq", "policy", "policy-sig"}) {
            MainTest.Run push = ok("oci", "push", lay + ":" + tag, repo + ":" + tag, "--json");
            assertThat(push.out()).contains("\"retries\" : 0");
        }
        // a second push sends nothing but the manifest
        assertThat(ok("oci", "push", lay + ":img", repo + ":again", "--json").out()).contains("\"blobsTransferred\" : 0", "\"blobsSkipped\" : 2");
        assertThat(skopeo.runOk("inspect", "--tls-verify=false", "docker://" + repo + ":img").stdout()).contains("\"Digest\": \"" + img + "\"");
        assertThat(skopeo.runOk("inspect", "--tls-verify=false", "--raw", "docker://" + repo + ":sq").stdout())
                .isEqualTo(Files.readString(lay.resolve("blobs/sha256/" + sq.substring(7))));
        // docker-registry 2.8 has no referrers API: the fallback tag lists the artifact
        String fallback = skopeo.runOk("inspect", "--tls-verify=false", "--raw", "docker://" + repo + ":sha256-" + sq.substring(7)).stdout();
        assertThat(fallback).contains("\"artifactType\":\"application/vnd.cairn.ipe.policy.v1\"", art);
        // discovery through the fallback tags (the registry's referrers endpoint answers 404), two levels deep
        MainTest.Run tree = ok("oci", "tree", "docker://" + repo + ":sq");
        assertThat(tree.out().lines().toList()).containsExactly(
                "docker://" + repo + ":sq  " + sq + "  application/vnd.oci.image.manifest.v1+json",
                "└── " + art + "  application/vnd.cairn.ipe.policy.v1",
                "    └── " + sig + "  application/pkcs7-signature");
        assertThat(ok("oci", "tree", lay + ":sq").out()).isEqualTo(tree.out().replace("docker://" + repo, lay.toString()));
        String remote = ok("oci", "inspect", "docker://" + repo + ":sq", "--json").out();
        String local = ok("oci", "inspect", lay + ":sq", "--json").out();
        // the same report from the registry as from the layout (the layout also knows the referrer's tag)
        assertThat(remote).contains("\"verityRootHash\"", art).isEqualTo(local.replace(lay + ":sq", "docker://" + repo + ":sq")
                .replaceAll("\n\\s*\"tag\" : \"[^\"]+\",", ""));
        Path sk = dir.resolve("skopeo-copy");
        for (String tag : new String[] {"img", "sq", "policy"}) {
            skopeo.runOk("copy", "--quiet", "--src-tls-verify=false", "docker://" + repo + ":" + tag, "oci:" + sk + ":" + tag);
        }
        assertThat(ok("oci", "ls", sk.toString()).out()).contains("img\t" + img, "sq\t" + sq, "policy\t" + art);
        Path pulled = dir.resolve("pulled");
        for (String tag : new String[] {"img", "sq", "policy", "policy-sig"}) {
            ok("oci", "pull", repo + ":" + tag, pulled + ":" + tag);
        }
        assertThat(ok("oci", "ls", pulled.toString()).out()).contains("img\t" + img, "sq\t" + sq, "policy\t" + art);
        ok("oci", "gc", lay.toString());
        assertThat(blobs(pulled)).isEqualTo(blobs(lay));
        ok("oci", "pull", repo + "@" + sq, pulled + ":by-digest");
    }

    @Test
    void indexesGoChildrenFirstAndComeBackByteExact() throws IOException {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path lay = dir.resolve("lay");
        ok("oci", "layer", "add", lay + ":amd", tree("a", 10_000).toString(), "--type", "tar+gzip", "--architecture", "amd64");
        ok("oci", "layer", "add", lay + ":arm", tree("b", 10_000).toString(), "--type", "tar+gzip", "--architecture", "arm64");
        dev.cairn.oci.OciLayout l = dev.cairn.oci.OciLayout.open(lay);
        java.util.List<dev.cairn.oci.Descriptor> children = new java.util.ArrayList<>();
        for (String[] t : new String[][] {{"amd", "amd64"}, {"arm", "arm64"}}) {
            dev.cairn.oci.Descriptor d = l.resolve(t[0]);
            children.add(new dev.cairn.oci.Descriptor(d.mediaType(), null, d.digest(), d.size(), null, null,
                    new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("architecture", t[1]).put("os", "linux"), null));
        }
        dev.cairn.oci.Descriptor index = l.putBlob(dev.cairn.oci.OciJson.encode(dev.cairn.oci.ImageIndex.of(children)),
                dev.cairn.oci.MediaTypes.INDEX);
        l.tag("multi", index);
        String repo = anon.host() + "/cairn/multi";
        assertThat(ok("oci", "push", lay + ":multi", repo + ":multi", "--json").out()).contains("\"manifests\" : 3");
        assertThat(skopeo.runOk("inspect", "--tls-verify=false", "--raw", "docker://" + repo + ":multi").stdout())
                .isEqualTo(Files.readString(l.blobPath(index.digest())));
        assertThat(skopeo.runOk("inspect", "--tls-verify=false", "--override-arch", "arm64", "docker://" + repo + ":multi").stdout())
                .contains("\"Digest\": \"" + index.digest() + "\"", "\"Architecture\": \"arm64\""); // skopeo picks arm64 from our index
        Path back = dir.resolve("back");
        assertThat(ok("oci", "pull", repo + ":multi", back + ":multi", "--json").out()).contains(index.digest().toString(), "\"manifests\" : 3");
        assertThat(ok("oci", "inspect", back + ":multi").out()).contains(children.get(0).digest().toString(), children.get(1).digest().toString());
        ok("oci", "gc", lay.toString());
        assertThat(blobs(back)).isEqualTo(blobs(lay));
    }

    @Test
    void largeBlobsGoInCheckedChunks() throws IOException {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path lay = dir.resolve("lay");
        String m = field(ok("oci", "layer", "add", lay + ":big", tree("big", 3_000_000).toString(), "--type", "tar+gzip", "--json").out(), "manifest");
        String repo = anon.host() + "/cairn/chunked";
        ok("oci", "push", "--chunk-size", "262144", lay + ":big", repo + ":big");
        Path sk = dir.resolve("sk");
        skopeo.runOk("copy", "--quiet", "--src-tls-verify=false", "docker://" + repo + ":big", "oci:" + sk + ":big");
        assertThat(ok("oci", "ls", sk.toString()).out()).contains("big\t" + m);
        assertThat(blobs(sk)).isEqualTo(blobs(lay));
    }

    @Test
    void basicAuthFromConfigJsonAndPasswordStdin() throws IOException {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path lay = dir.resolve("lay");
        String img = field(ok("oci", "layer", "add", lay + ":img", tree("t", 10_000).toString(), "--type", "tar+gzip", "--json").out(), "manifest");
        String repo = basic.host() + "/private/os";
        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "{}");
        MainTest.Run anonymous = MainTest.run("oci", "push", lay + ":img", repo + ":img", "--authfile", empty.toString());
        assertThat(anonymous.code()).isEqualTo(5);
        assertThat(anonymous.err()).contains("requires a login");
        Path config = dir.resolve("config.json");
        String auth = Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
        Files.writeString(config, "{\"auths\":{\"http://" + basic.host() + "\":{\"auth\":\"" + auth + "\"}}}");
        ok("oci", "push", lay + ":img", repo + ":img", "--authfile", config.toString());
        assertThat(skopeo.runOk("inspect", "--tls-verify=false", "--creds", "alice:s3cret", "docker://" + repo + ":img").stdout())
                .contains("\"Digest\": \"" + img + "\"");
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream("wrong\n".getBytes(StandardCharsets.UTF_8)));
            MainTest.Run wrong = MainTest.run("oci", "pull", repo + ":img", dir.resolve("p") + ":img", "--username", "alice", "--password-stdin");
            assertThat(wrong.code()).isEqualTo(5);
            assertThat(dir.resolve("p")).doesNotExist();
            System.setIn(new ByteArrayInputStream("s3cret\n".getBytes(StandardCharsets.UTF_8)));
            ok("oci", "pull", repo + ":img", dir.resolve("p") + ":img", "--username", "alice", "--password-stdin");
        } finally {
            System.setIn(stdin);
        }
        assertThat(ok("oci", "ls", dir.resolve("p").toString()).out()).contains("img\t" + img);
    }

    @Test
    void credentialStoreFromDockerConfigEnvironment() throws IOException {
        Path lay = dir.resolve("lay");
        String img = field(ok("oci", "layer", "add", lay + ":img", tree("t", 5_000).toString(), "--type", "tar", "--json").out(), "manifest");
        Path bin = dir.resolve("bin");
        Files.createDirectories(bin);
        Path helper = bin.resolve("docker-credential-cairntest");
        Files.writeString(helper, "#!/bin/sh\nread host\necho '{\"ServerURL\":\"'$host'\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}'\n");
        Files.setPosixFilePermissions(helper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dockerConfig = dir.resolve("docker");
        Files.createDirectories(dockerConfig);
        Files.writeString(dockerConfig.resolve("config.json"), "{\"credsStore\":\"cairntest\"}");
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put("DOCKER_CONFIG", dockerConfig.toString());
        env.put("PATH", bin + ":/usr/bin:/bin");
        env.remove("REGISTRY_AUTH_FILE");
        java.util.Map<String, String> old = Environment.swap(env);
        try {
            ok("oci", "push", lay + ":img", basic.host() + "/helper/os:img");
        } finally {
            Environment.swap(old);
        }
        assertThat(ToolOracle.require("skopeo", "skopeo").runOk("inspect", "--tls-verify=false", "--creds", "alice:s3cret",
                "docker://" + basic.host() + "/helper/os:img").stdout()).contains("\"Digest\": \"" + img + "\"");
    }

    @Test
    void tamperedRegistryBlobIsRejectedOnPullAndNothingIsStored() throws IOException {
        Path lay = dir.resolve("lay");
        String layer = field(ok("oci", "layer", "add", lay + ":img", tree("t", 50_000).toString(), "--type", "tar+gzip", "--json").out(), "layer");
        String repo = anon.host() + "/cairn/tamper";
        ok("oci", "push", lay + ":img", repo + ":img");
        String hex = layer.substring(7);
        Path stored = anon.dir.resolve("data/docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data");
        byte[] b = Files.readAllBytes(stored);
        b[b.length / 2] ^= 1;
        Files.write(stored, b);
        Path out = dir.resolve("out");
        MainTest.Run pull = MainTest.run("oci", "pull", repo + ":img", out + ":img");
        assertThat(pull.code()).as(pull.err()).isEqualTo(3);
        assertThat(pull.err()).contains("does not match its digest");
        assertThat(Files.exists(out.resolve("blobs/sha256/" + hex))).isFalse();
        assertThat(Files.readString(out.resolve("index.json"))).doesNotContain("img");
    }

    @Test
    void copyBetweenLayoutsAndRegistriesKeepsDigests() throws IOException {
        Path lay = dir.resolve("lay");
        String img = field(ok("oci", "layer", "add", lay + ":img", tree("t", 20_000).toString(), "--type", "tar+zstd", "--json").out(), "manifest");
        Path second = dir.resolve("second");
        assertThat(ok("oci", "copy", "oci:" + lay + ":img", "oci:" + second + ":copied", "--json").out()).contains(img);
        String a = "docker://" + anon.host() + "/copy/a:one";
        String b = "docker://" + anon.host() + "/copy/b:two";
        ok("oci", "copy", "oci:" + second + ":copied", a);
        MainTest.Run regToReg = ok("oci", "copy", a, b, "--json");
        assertThat(regToReg.out()).contains(img, "\"blobsMounted\" : 2", "\"blobsTransferred\" : 0");
        // between two registries (the second with basic auth): downloaded, verified, uploaded
        Path config = dir.resolve("config.json");
        String auth = Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
        Files.writeString(config, "{\"auths\":{\"" + basic.host() + "\":{\"auth\":\"" + auth + "\"}}}");
        String c = "docker://" + basic.host() + "/copy/c:three";
        assertThat(ok("oci", "copy", b, c, "--authfile", config.toString(), "--json").out())
                .contains(img, "\"blobsTransferred\" : 2", "\"blobsMounted\" : 0");
        Path back = dir.resolve("back");
        ok("oci", "copy", c, "oci:" + back + ":img", "--authfile", config.toString());
        assertThat(ok("oci", "ls", back.toString()).out()).contains("img\t" + img);
        assertThat(blobs(back)).isEqualTo(blobs(lay));
        MainTest.Run noTransport = MainTest.run("oci", "copy", lay + ":img", b);
        assertThat(noTransport.code()).isEqualTo(3);
        assertThat(noTransport.err()).contains("oci:DIR:TAG");
    }

    @Test
    void badReferencesAreUsageErrorsWithClearMessages() {
        for (String bad : new String[] {"repo:tag", "https://127.0.0.1:5000/a:b", "127.0.0.1:5000/UPPER:tag", "127.0.0.1:5000/a",
                "127.0.0.1:5000/a:-tag", "127.0.0.1:5000/a@sha256:abc"}) {
            MainTest.Run r = MainTest.run("oci", "pull", bad, dir.resolve("x") + ":t");
            assertThat(r.code()).as(bad).isEqualTo(3);
            assertThat(r.err()).as(bad).contains(bad.contains("@") ? "digest" : "'");
        }
    }
}
