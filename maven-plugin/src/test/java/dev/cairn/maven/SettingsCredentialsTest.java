package dev.cairn.maven;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.oci.Credentials;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.maven.settings.Proxy;
import org.apache.maven.settings.Server;
import org.apache.maven.settings.Settings;
import org.apache.maven.settings.building.DefaultSettingsProblem;
import org.apache.maven.settings.building.SettingsProblem;
import org.apache.maven.settings.crypto.SettingsDecrypter;
import org.apache.maven.settings.crypto.SettingsDecryptionResult;
import org.junit.jupiter.api.Test;

class SettingsCredentialsTest {
    private static Server server(String id, String user, String password) {
        Server s = new Server();
        s.setId(id);
        s.setUsername(user);
        s.setPassword(password);
        return s;
    }

    private static Settings settings(Server... servers) {
        Settings s = new Settings();
        for (Server server : servers) {
            s.addServer(server);
        }
        return s;
    }

    /** A decrypter that turns {@code {x}} into {@code x}, as Maven's turns an encrypted password into the clear one. */
    private static SettingsDecrypter unwrapping(AtomicInteger calls) {
        return request -> {
            calls.incrementAndGet();
            List<Server> out = new ArrayList<>();
            for (Server s : request.getServers()) {
                Server c = s.clone();
                String pw = c.getPassword();
                if (pw != null && pw.startsWith("{") && pw.endsWith("}")) {
                    c.setPassword(pw.substring(1, pw.length() - 1));
                }
                out.add(c);
            }
            return result(out, List.of());
        };
    }

    private static SettingsDecryptionResult result(List<Server> servers, List<SettingsProblem> problems) {
        return new SettingsDecryptionResult() {
            @Override
            public Server getServer() {
                return servers.isEmpty() ? null : servers.get(0);
            }

            @Override
            public List<Server> getServers() {
                return servers;
            }

            @Override
            public Proxy getProxy() {
                return null;
            }

            @Override
            public List<Proxy> getProxies() {
                return List.of();
            }

            @Override
            public List<SettingsProblem> getProblems() {
                return problems;
            }
        };
    }

    @Test
    void theServerWhoseIdIsTheRegistryHostGivesTheCredentials() {
        SettingsCredentials c = new SettingsCredentials(settings(server("other.example", "x", "y"),
                server("registry.example", "ci", "s3cret")), null);
        assertThat(c.apply("registry.example")).contains(new Credentials("ci", "s3cret"));
        assertThat(c.server("registry.example").getId()).isEqualTo("registry.example");
    }

    @Test
    void aRegistryWithAPortMatchesOnlyTheServerWithThatPort() {
        SettingsCredentials c = new SettingsCredentials(settings(server("registry.example", "plain", "a"),
                server("registry.example:5000", "ported", "b")), null);
        assertThat(c.apply("registry.example:5000")).contains(new Credentials("ported", "b"));
        assertThat(c.apply("registry.example")).contains(new Credentials("plain", "a"));
        assertThat(c.apply("registry.example:5001")).isEmpty();
    }

    @Test
    void noServerForTheHostMeansAnonymous() {
        assertThat(new SettingsCredentials(settings(server("registry.example", "ci", "pw")), null).apply("ghcr.io")).isEmpty();
        assertThat(new SettingsCredentials(settings(), null).apply("registry.example")).isEmpty();
        assertThat(new SettingsCredentials(null, null).apply("registry.example")).isEmpty();
    }

    @Test
    void theIdIsMatchedExactlyNotAsAPrefixOrUrl() {
        SettingsCredentials c = new SettingsCredentials(settings(server("https://registry.example", "a", "b"),
                server("registry.example/cairn", "c", "d")), null);
        assertThat(c.apply("registry.example")).isEmpty();
    }

    @Test
    void passwordsAreDecryptedOncePerRegistry() {
        AtomicInteger calls = new AtomicInteger();
        SettingsCredentials c = new SettingsCredentials(settings(server("registry.example", "ci", "{clear}")), unwrapping(calls));
        assertThat(c.apply("registry.example")).contains(new Credentials("ci", "clear"));
        assertThat(c.apply("registry.example")).contains(new Credentials("ci", "clear"));
        assertThat(calls).hasValue(1);
        assertThat(c.apply("ghcr.io")).isEmpty();
        assertThat(calls).hasValue(1); // no server, nothing to decrypt
    }

    @Test
    void withoutADecrypterThePasswordIsTakenAsWritten() {
        SettingsCredentials c = new SettingsCredentials(settings(server("registry.example", "ci", "{clear}")), null);
        assertThat(c.apply("registry.example")).contains(new Credentials("ci", "{clear}"));
    }

    @Test
    void aPasswordThatDoesNotDecryptFailsNamingTheServerButNotThePassword() {
        SettingsDecrypter broken = request -> result(request.getServers(), List.of(new DefaultSettingsProblem(
                "Failed to decrypt password for server registry.example: bad master password", SettingsProblem.Severity.ERROR,
                "server: registry.example", -1, -1, null)));
        SettingsCredentials c = new SettingsCredentials(settings(server("registry.example", "ci", "{AAAAsecretBBBB}")), broken);
        assertThatThrownBy(() -> c.apply("registry.example"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("settings.xml server 'registry.example'")
                .hasMessageContaining("bad master password")
                .message().doesNotContain("AAAAsecretBBBB");
    }

    @Test
    void aWarningFromTheDecrypterIsNoFailure() {
        SettingsDecrypter warns = request -> result(request.getServers(), List.of(new DefaultSettingsProblem(
                "something odd", SettingsProblem.Severity.WARNING, "server", -1, -1, null)));
        SettingsCredentials c = new SettingsCredentials(settings(server("registry.example", "ci", "pw")), warns);
        assertThat(c.apply("registry.example")).contains(new Credentials("ci", "pw"));
    }

    @Test
    void aServerWithoutUserOrPasswordIsAnErrorNotAnonymousAccess() {
        SettingsCredentials noUser = new SettingsCredentials(settings(server("registry.example", null, "pw")), null);
        assertThatThrownBy(() -> noUser.apply("registry.example"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("settings.xml server 'registry.example'")
                .hasMessageContaining("<username>");
        SettingsCredentials noPassword = new SettingsCredentials(settings(server("registry.example", "ci", null)), null);
        assertThatThrownBy(() -> noPassword.apply("registry.example")).isInstanceOf(IllegalArgumentException.class);
    }
}
