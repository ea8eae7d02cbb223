package dev.cairn.cli;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1, a free port and temporary storage;
 * optionally with an htpasswd (bcrypt) user. Closing stops exactly the process it started.
 */
final class RegistryFixture implements AutoCloseable {
    final Path dir;
    final int port;
    private final Process process;

    private RegistryFixture(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    static RegistryFixture start(Path dir, String user, String password) throws IOException, InterruptedException {
        return start(dir, user, password, null);
    }

    /** With {@code authYaml} (e.g. a token section), that is the registry's {@code auth:} value. */
    static RegistryFixture start(Path dir, String user, String password, String authYaml) throws IOException, InterruptedException {
        return start(dir, user, password, authYaml, null);
    }

    /** With {@code tlsYaml} ({@code tls: {certificate: …, key: …}}) inside the {@code http:} section. */
    static RegistryFixture start(Path dir, String user, String password, String authYaml, String tlsYaml)
            throws IOException, InterruptedException {
        ToolOracle registry = ToolOracle.require("docker-registry", "docker-registry");
        Files.createDirectories(dir.resolve("data"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        StringBuilder cfg = new StringBuilder("version: 0.1\nlog: {level: warn}\n")
                .append("storage: {filesystem: {rootdirectory: ").append(dir.resolve("data")).append("}, delete: {enabled: true}}\n")
                .append("http: {addr: 127.0.0.1:").append(port).append(", secret: not-secret-test-only")
                .append(tlsYaml == null ? "" : ", " + tlsYaml).append("}\n");
        if (user != null) {
            ToolOracle htpasswd = ToolOracle.require("htpasswd", "apache2-utils");
            String line = htpasswd.runOk("-Bbn", user, password).stdout().strip();
            Files.writeString(dir.resolve("htpasswd"), line + "\n");
            cfg.append("auth: {htpasswd: {realm: cairn-test, path: ").append(dir.resolve("htpasswd")).append("}}\n");
        }
        if (authYaml != null) {
            cfg.append("auth: ").append(authYaml).append("\n");
        }
        Files.writeString(dir.resolve("config.yml"), cfg.toString());
        Process p = new ProcessBuilder(registry.executable().toString(), "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        RegistryFixture f = new RegistryFixture(dir, port, p);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/v2/").toURL().openConnection();
                int code = c.getResponseCode();
                c.disconnect();
                if (code == 200 || code == 401 || (tlsYaml != null && code == 400)) { // 400: plain HTTP to the TLS port
                    return f;
                }
            } catch (IOException notYet) {
                // still starting
            }
            if (!p.isAlive() || System.nanoTime() > deadline) {
                f.close();
                throw new IOException("docker-registry did not start: " + Files.readString(dir.resolve("registry.log")));
            }
            Thread.sleep(25);
        }
    }

    String host() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
