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
        return fromDockerConfig(configJson, host, null);
    }

    /**
     * Like {@link #fromDockerConfig(Path, String)}, and when {@code helpers} is given, a credential
     * helper named by {@code credHelpers[host]} (else {@code credsStore}) is run first:
     * {@code docker-credential-<name> get} with the host on stdin, answering
     * {@code {"Username":…,"Secret":…}}. {@code helpers} maps a helper name to its executable (the
     * caller searches PATH), or null when it is not installed.
     */
    public static Optional<Credentials> fromDockerConfig(Path configJson, String host,
                                                         java.util.function.Function<String, Path> helpers) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            return Optional.empty();
        }
        byte[] b = OciLayout.readCapped(configJson, 1 << 20, configJson.toString());
        JsonNode root = OciJson.tree(b, configJson.toString());
        if (helpers != null) {
            String helper = root.path("credHelpers").path(host).asText("");
            if (helper.isEmpty()) {
                helper = root.path("credsStore").asText("");
            }
            if (!helper.isEmpty()) {
                Optional<Credentials> c = runHelper(helpers.apply("docker-credential-" + helper), helper, host);
                if (c.isPresent()) {
                    return c;
                }
            }
        }
        JsonNode auths = root.path("auths");
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

    private static Optional<Credentials> runHelper(Path exe, String name, String host) throws IOException {
        if (exe == null) {
            throw new FormatException("credHelpers", name, "credential helper docker-credential-" + name + " is not installed");
        }
        Process p = new ProcessBuilder(exe.toString(), "get").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (var in = p.getOutputStream()) {
            in.write(host.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out;
        try (var o = p.getInputStream()) {
            out = o.readNBytes(1 << 20);
        }
        int code;
        try {
            if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("docker-credential-" + name + " did not answer within 30 s");
            }
            code = p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new java.io.InterruptedIOException("interrupted");
        }
        if (code != 0) {
            return Optional.empty(); // "credentials not found in native keychain": fall back to auths
        }
        JsonNode n = OciJson.tree(out, "docker-credential-" + name + " output");
        String user = n.path("Username").asText("");
        String secret = n.path("Secret").asText("");
        if (secret.isEmpty()) {
            return Optional.empty();
        }
        if (user.equals("<token>")) {
            throw new FormatException("Username", "<token>", "docker-credential-" + name
                    + " returned an identity token (OAuth2 refresh token), which cairn does not support yet");
        }
        return Optional.of(new Credentials(user, secret));
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
