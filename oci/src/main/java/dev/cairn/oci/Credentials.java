package dev.cairn.oci;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;

/** A user name and password (or identity token) for one registry. {@link #toString()} never shows the secret. */
public record Credentials(String username, String password) {
    public Credentials {
        if (username == null || password == null) {
            throw new IllegalArgumentException("credentials need a user name and a password");
        }
    }

    /** The value of an HTTP Basic {@code Authorization} header. */
    public String basicHeader() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The entry for {@code host} in a docker/podman {@code config.json}: {@code auths[host].auth}
     * (base64 {@code user:password}) or {@code username}/{@code password}; keys may be written
     * {@code host}, {@code https://host} or {@code http://host} with an optional path. Credential
     * helpers ({@code credHelpers}, {@code credsStore}) are not run.
     */
    public static Optional<Credentials> fromDockerConfig(Path configJson, String host) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            return Optional.empty();
        }
        byte[] b = OciLayout.readCapped(configJson, 1 << 20, configJson.toString());
        JsonNode auths = OciJson.tree(b, configJson.toString()).path("auths");
        var it = auths.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (!host.equals(hostOf(e.getKey()))) {
                continue;
            }
            JsonNode a = e.getValue();
            String auth = a.path("auth").asText("");
            if (!auth.isEmpty()) {
                String decoded;
                try {
                    decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException ex) {
                    throw new FormatException("auths." + e.getKey() + ".auth", null, configJson + ": not base64");
                }
                int colon = decoded.indexOf(':');
                if (colon <= 0) {
                    throw new FormatException("auths." + e.getKey() + ".auth", null, configJson + ": not base64 of user:password");
                }
                return Optional.of(new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
            }
            if (a.hasNonNull("username") && a.hasNonNull("password")) {
                return Optional.of(new Credentials(a.get("username").asText(), a.get("password").asText()));
            }
        }
        return Optional.empty();
    }

    static String hostOf(String key) {
        String k = key;
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        return slash >= 0 ? k.substring(0, slash) : k;
    }

    @Override
    public String toString() {
        return "Credentials[" + username + ", ****]";
    }
}
