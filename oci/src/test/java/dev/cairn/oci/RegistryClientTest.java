package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reference grammar, credentials lookup, challenge parsing and the plain-HTTP rule, without a network. */
class RegistryClientTest {
    @TempDir
    Path dir;

    @Test
    void referencesParseStrictly() {
        RegistryReference r = RegistryReference.parse("127.0.0.1:5000/cairn/os:v1");
        assertThat(r.registry()).isEqualTo("127.0.0.1:5000");
        assertThat(r.repository()).isEqualTo("cairn/os");
        assertThat(r.tag()).isEqualTo("v1");
        assertThat(r.reference()).isEqualTo("v1");
        String d = "sha256:" + "a".repeat(64);
        RegistryReference both = RegistryReference.parse("registry.example.org/a/b-c__d.e:t@" + d);
        assertThat(both.reference()).isEqualTo(d);
        assertThat(RegistryReference.parse("localhost/x@" + d).tag()).isNull();
        assertThat(RegistryReference.parse("[::1]:5000/x:y").registry()).isEqualTo("[::1]:5000");
        for (String bad : new String[] {"", "x:y", "ubuntu:22.04", "docker.io", "https://r.example/x:y", "r.example/X:y", "r.example/a//b:y",
                "r.example/a:", "r.example/a:.x", "r.example/a", "r.example/a@sha256:AB", "r.example/a-:t", "bad host/x:y"}) {
            assertThatThrownBy(() -> RegistryReference.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void dockerConfigAuthsAreFoundByHost() throws IOException {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, "{\"auths\":{\"https://r.example:5000/v1/\":{\"auth\":\"YWxpY2U6czNjOnJldA==\"},"
                + "\"other.example\":{\"username\":\"bob\",\"password\":\"pw\"}},\"credsStore\":\"desktop\"}");
        assertThat(Credentials.fromDockerConfig(cfg, "r.example:5000")).contains(new Credentials("alice", "s3c:ret"));
        assertThat(Credentials.fromDockerConfig(cfg, "other.example")).contains(new Credentials("bob", "pw"));
        assertThat(Credentials.fromDockerConfig(cfg, "r.example")).isEmpty();
        assertThat(Credentials.fromDockerConfig(dir.resolve("missing.json"), "x")).isEmpty();
        assertThat(new Credentials("alice", "secret").toString()).doesNotContain("secret");
        Files.writeString(cfg, "{\"auths\":{\"h\":{\"auth\":\"!!!\"}}}");
        assertThatThrownBy(() -> Credentials.fromDockerConfig(cfg, "h")).isInstanceOf(dev.cairn.io.FormatException.class)
                .hasMessageNotContaining("!!!");
    }

    @Test
    void credentialHelpersAnswerBeforeAuths() throws IOException {
        Path helper = dir.resolve("docker-credential-fake");
        Files.writeString(helper, "#!/bin/sh\nread host\n[ \"$1\" = get ] || exit 2\n"
                + "if [ \"$host\" = r.example ]; then echo '{\"ServerURL\":\"r.example\",\"Username\":\"carol\",\"Secret\":\"from-helper\"}'; "
                + "else echo 'credentials not found in native keychain'; exit 1; fi\n");
        Files.setPosixFilePermissions(helper, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, "{\"credHelpers\":{\"r.example\":\"fake\"},\"credsStore\":\"fake\","
                + "\"auths\":{\"r.example\":{\"auth\":\"YTpi\"},\"other.example\":{\"auth\":\"YTpi\"}}}");
        java.util.function.Function<String, Path> helpers = n -> n.equals("docker-credential-fake") ? helper : null;
        assertThat(Credentials.fromDockerConfig(cfg, "r.example", helpers)).contains(new Credentials("carol", "from-helper"));
        // the store does not know other.example: auths answers
        assertThat(Credentials.fromDockerConfig(cfg, "other.example", helpers)).contains(new Credentials("a", "b"));
        assertThatThrownBy(() -> Credentials.fromDockerConfig(cfg, "r.example", n -> null))
                .isInstanceOf(dev.cairn.io.FormatException.class).hasMessageContaining("not installed");
    }

    @Test
    void malformedSecretSourcesAreReportedWithoutTheirText() throws IOException {
        String secret = "ghp_SuperSecretToken123";
        Path helper = dir.resolve("docker-credential-fake");
        Files.writeString(helper, "#!/bin/sh\nread host\necho " + secret + "\n");
        Files.setPosixFilePermissions(helper, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, "{\"credsStore\":\"fake\"}");
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> Credentials.fromDockerConfig(cfg, "r.example",
                n -> n.equals("docker-credential-fake") ? helper : null));
        assertThat(t).isInstanceOf(dev.cairn.io.FormatException.class)
                .hasMessageStartingWith("docker-credential-fake output: malformed JSON: syntax error (line 1");
        OciJsonTest.assertNoSecret(t, secret);
        // an unquoted auth value: base64 of user:password
        String auth = java.util.Base64.getEncoder().encodeToString("alice:hunter2hunter2".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.writeString(cfg, "{\"auths\":{\"r.example\":{\"auth\":" + auth + "}}}");
        Throwable c = org.assertj.core.api.Assertions.catchThrowable(() -> Credentials.fromDockerConfig(cfg, "r.example"));
        assertThat(c).isInstanceOf(dev.cairn.io.FormatException.class).hasMessageStartingWith(cfg + ": malformed JSON: syntax error (line 1, column");
        OciJsonTest.assertNoSecret(c, auth);
        OciJsonTest.assertNoSecret(c, auth.substring(0, 8));
    }

    @Test
    void bearerChallengesParseWithQuotedCommasAndSeveralScopes() {
        var p = RegistryClient.challengeParams("realm=\"https://auth.example/token\",service=\"registry.example\","
                + "scope=\"repository:a:pull,push repository:b:pull\",error=\"insufficient_scope\"");
        assertThat(p).containsEntry("realm", "https://auth.example/token").containsEntry("service", "registry.example")
                .containsEntry("scope", "repository:a:pull,push repository:b:pull").containsEntry("error", "insufficient_scope");
    }

    @Test
    void referrersPagesFollowTheNextLink() {
        URI base = URI.create("http://127.0.0.1:5000/v2/a/referrers/sha256:x");
        assertThat(RegistryClient.nextLink(base, "</v2/a/referrers/sha256:x?last=b>; rel=\"next\"").toString())
                .isEqualTo("http://127.0.0.1:5000/v2/a/referrers/sha256:x?last=b");
        assertThat(RegistryClient.nextLink(base, "<http://other/p>; rel=\"prev\"")).isNull();
        assertThat(RegistryClient.nextLink(base, null)).isNull();
    }

    @Test
    void plainHttpOnlyForLoopbackOrListedHosts() throws IOException {
        RegistryClient c = new RegistryClient(RegistryClient.Options.defaults(h -> Optional.empty())
                .withInsecureHosts(Set.of("lab.example:5000")));
        assertThat(c.url(RegistryReference.parse("127.0.0.1:5000/a:b"), "/").getScheme()).isEqualTo("http");
        assertThat(c.url(RegistryReference.parse("localhost:5000/a:b"), "/").getScheme()).isEqualTo("http");
        assertThat(c.url(RegistryReference.parse("[::1]:5000/a:b"), "/").getScheme()).isEqualTo("http");
        assertThat(c.url(RegistryReference.parse("lab.example:5000/a:b"), "/").getScheme()).isEqualTo("http");
        assertThat(c.url(RegistryReference.parse("lab.example/a:b"), "/").getScheme()).isEqualTo("https");
        assertThat(c.url(RegistryReference.parse("127.example.org/a:b"), "/").getScheme()).isEqualTo("https");
        assertThat(RegistryClient.withQuery(URI.create("http://h/u?_state=x"), "digest=d").toString()).isEqualTo("http://h/u?_state=x&digest=d");
        assertThat(RegistryClient.withQuery(URI.create("http://h/u"), "digest=d").toString()).isEqualTo("http://h/u?digest=d");
    }
}
