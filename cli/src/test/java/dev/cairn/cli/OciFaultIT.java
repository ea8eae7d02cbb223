package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer-token auth against docker-registry 2.8 with a test token issuer, and a fault-injecting
 * proxy in between (500, 429, dropped uploads and downloads, "expired" tokens): push and pull
 * still finish with identical digests within a bounded number of retries.
 */
class OciFaultIT {
    @TempDir
    Path dir;

    static MainTest.Run ok(String... args) {
        MainTest.Run r = MainTest.run(args);
        assertThat(r.code()).as(String.join(" ", args) + "\n" + r.err()).isZero();
        return r;
    }

    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\" : \"?([^\",\\n]+)\"?").matcher(json);
        assertThat(m.find()).as(key).isTrue();
        return m.group(1);
    }

    @Test
    void tokenAuthThroughAFaultyProxyStillGivesIdenticalDigests() throws Exception {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path bundle = dir.resolve("token.crt");
        try (TokenIssuer issuer = new TokenIssuer(bundle);
             RegistryFixture reg = RegistryFixture.start(dir.resolve("reg"), null, null, "{token: {realm: " + issuer.realm()
                     + ", service: " + TokenIssuer.SERVICE + ", issuer: " + TokenIssuer.ISSUER + ", rootcertbundle: " + bundle + "}}");
             FaultProxy proxy = new FaultProxy(reg.host(), issuer.realm())) {
            Path tree = dir.resolve("tree");
            Files.createDirectories(tree);
            Files.write(tree.resolve("a"), SeededData.bytes(1, 700_000));
            Files.write(tree.resolve("b"), SeededData.bytes(2, 50_000));
            Path lay = dir.resolve("lay");
            String m1 = field(ok("oci", "layer", "add", lay + ":img", tree.toString(), "--type", "tar+gzip", "--json").out(), "manifest");
            String m2 = field(ok("oci", "layer", "add", lay + ":img", tree.toString(), "--type", "squashfs", "--json").out(), "manifest");
            assertThat(m2).isNotEqualTo(m1);
            Path config = dir.resolve("config.json");
            String auth = Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
            Files.writeString(config, "{\"auths\":{\"" + proxy.host() + "\":{\"auth\":\"" + auth + "\"}}}");
            // without credentials the token server refuses: exit 5
            Path none = dir.resolve("none.json");
            Files.writeString(none, "{}");
            MainTest.Run denied = MainTest.run("oci", "push", lay + ":img", reg.host() + "/secure/os:img", "--authfile", none.toString());
            assertThat(denied.code()).isEqualTo(5);

            MainTest.Run push = ok("oci", "push", "--chunk-size", "131072", lay + ":img", proxy.host() + "/secure/os:img",
                    "--authfile", config.toString(), "--json");
            int pushRetries = Integer.parseInt(field(push.out(), "retries"));
            assertThat(field(push.out(), "digest")).isEqualTo(m2);
            Path pulled = dir.resolve("pulled");
            MainTest.Run pull = ok("oci", "pull", proxy.host() + "/secure/os:img", pulled + ":img", "--authfile", config.toString(), "--json");
            int pullRetries = Integer.parseInt(field(pull.out(), "retries"));
            assertThat(proxy.faults.get()).as("faults injected").isGreaterThan(3);
            assertThat(pushRetries).as("push retries").isPositive().isLessThan(30);
            assertThat(pullRetries).as("pull retries (downloads cut off half-way)").isPositive().isLessThan(10);
            assertThat(issuer.issued.get()).as("tokens fetched (expired ones re-fetched)").isGreaterThan(1);
            assertThat(ok("oci", "ls", pulled.toString()).out()).contains("img\t" + m2);
            assertThat(ok("oci", "inspect", pulled.toString()).out()).doesNotContain("missing blob");
            // the independent client sees the same image through the token flow, straight from the registry
            assertThat(skopeo.runOk("inspect", "--tls-verify=false", "--raw", "--creds", "alice:s3cret", "docker://" + reg.host() + "/secure/os:img")
                    .stdout()).isEqualTo(Files.readString(lay.resolve("blobs/sha256/" + m2.substring(7))));
            System.out.println("fault proxy: " + proxy.requests.get() + " requests, " + proxy.faults.get() + " faults; retries push "
                    + pushRetries + ", pull " + pullRetries + "; tokens " + issuer.issued.get());
        }
    }
}
