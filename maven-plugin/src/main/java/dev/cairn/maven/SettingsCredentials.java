package dev.cairn.maven;

import dev.cairn.oci.Credentials;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.maven.settings.Server;
import org.apache.maven.settings.Settings;
import org.apache.maven.settings.building.SettingsProblem;
import org.apache.maven.settings.crypto.DefaultSettingsDecryptionRequest;
import org.apache.maven.settings.crypto.SettingsDecrypter;
import org.apache.maven.settings.crypto.SettingsDecryptionResult;

/**
 * Registry credentials from {@code settings.xml}, as jib finds them: the {@code <server>} whose
 * {@code <id>} is the registry exactly as a reference names it ({@code HOST}, or {@code HOST:PORT}
 * when the reference carries a port), its {@code <username>} and {@code <password>} decrypted by
 * Maven's settings decrypter ({@code settings-security.xml}) when there is one. A registry with no
 * such server is reached anonymously. Looked up once per registry; nothing here logs a password.
 */
final class SettingsCredentials implements Function<String, Optional<Credentials>> {
    private final Settings settings;
    private final SettingsDecrypter decrypter;
    private final Map<String, Optional<Credentials>> found = new ConcurrentHashMap<>();

    /**
     * @param settings  the session's settings (null: no servers)
     * @param decrypter Maven's decrypter, or null to take the passwords as written
     */
    SettingsCredentials(Settings settings, SettingsDecrypter decrypter) {
        this.settings = settings;
        this.decrypter = decrypter;
    }

    /** The {@code <server>} entry for a registry ({@code HOST[:PORT]}), before decryption; null when none. */
    Server server(String registry) {
        return settings == null || registry == null ? null : settings.getServer(registry);
    }

    /**
     * The credentials for {@code registry}, or empty when settings.xml has no server for it.
     *
     * @throws IllegalArgumentException when the server entry cannot be used (its password does not
     *                                  decrypt, or it has no user name or password); the message names
     *                                  the server id, never the password
     */
    @Override
    public Optional<Credentials> apply(String registry) {
        return found.computeIfAbsent(registry, this::lookUp);
    }

    private Optional<Credentials> lookUp(String registry) {
        Server server = server(registry);
        if (server == null) {
            return Optional.empty();
        }
        if (decrypter != null) {
            SettingsDecryptionResult r = decrypter.decrypt(new DefaultSettingsDecryptionRequest(server));
            for (SettingsProblem p : r.getProblems()) {
                if (p.getSeverity() == SettingsProblem.Severity.ERROR || p.getSeverity() == SettingsProblem.Severity.FATAL) {
                    throw new IllegalArgumentException("settings.xml server '" + server.getId() + "': cannot decrypt its password: "
                            + p.getMessage());
                }
            }
            if (r.getServer() != null) {
                server = r.getServer();
            }
        }
        if (server.getUsername() == null || server.getUsername().isEmpty() || server.getPassword() == null) {
            throw new IllegalArgumentException("settings.xml server '" + server.getId() + "' is for registry " + registry
                    + " but has no <username> and <password>");
        }
        return Optional.of(new Credentials(server.getUsername(), server.getPassword()));
    }
}
