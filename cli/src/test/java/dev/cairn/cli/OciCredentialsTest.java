package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --username}/{@code --password-stdin} go only to the registry they are for: a command's
 * reference, or a copy's DEST. Two in-process stand-in registries on the loopback interface: SRC
 * with a token server, DEST with Basic auth; both record the Authorization headers they see.
 */
class OciCredentialsTest {
    @TempDir
    Path dir;

    private final List<HttpServer> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    /** Just enough of the distribution API for push, pull and copy, in memory. */
    static final class StandIn {
        final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
        final Map<String, byte[]> manifests = new ConcurrentHashMap<>();
        final Map<String, String> types = new ConcurrentHashMap<>();
        final Map<String, byte[]> uploads = new ConcurrentHashMap<>();
        final AtomicInteger ids = new AtomicInteger();

        void handle(HttpExchange ex) throws IOException {
            try (ex) {
                byte[] body = ex.getRequestBody().readAllBytes();
                String m = ex.getRequestMethod();
                String path = ex.getRequestURI().getPath();
                String query = ex.getRequestURI().getQuery();
                int blobsAt = path.indexOf("/blobs/");
                int manifestsAt = path.indexOf("/manifests/");
                if (path.equals("/v2/")) {
                    send(ex, m, 200, null);
                } else if (blobsAt > 0 && path.contains("/blobs/uploads/")) {
                    String name = path.substring(4, blobsAt);
                    if (m.equals("POST")) {
                        String id = "u" + ids.incrementAndGet();
                        uploads.put(id, new byte[0]);
                        ex.getResponseHeaders().set("Location", "/v2/" + name + "/blobs/uploads/" + id);
                        send(ex, m, 202, null);
                        return;
                    }
                    String id = path.substring(path.lastIndexOf('/') + 1);
                    byte[] sofar = uploads.get(id);
                    if (sofar == null) {
                        send(ex, m, 404, null);
                        return;
                    }
                    byte[] all = new byte[sofar.length + body.length];
                    System.arraycopy(sofar, 0, all, 0, sofar.length);
                    System.arraycopy(body, 0, all, sofar.length, body.length);
                    uploads.put(id, all);
                    if (m.equals("PATCH")) {
                        ex.getResponseHeaders().set("Location", path);
                        ex.getResponseHeaders().set("Range", "0-" + Math.max(0, all.length - 1));
                        send(ex, m, 202, null);
                    } else {
                        String digest = query.substring(query.indexOf("digest=") + 7).split("&")[0];
                        blobs.put(name + "@" + sha256(all), all);
                        ex.getResponseHeaders().set("Docker-Content-Digest", digest);
                        ex.getResponseHeaders().set("Location", "/v2/" + name + "/blobs/" + digest);
                        send(ex, m, 201, null);
                    }
                } else if (blobsAt > 0) {
                    byte[] b = blobs.get(path.substring(4, blobsAt) + "@" + path.substring(blobsAt + 7));
                    send(ex, m, b == null ? 404 : 200, b);
                } else if (manifestsAt > 0) {
                    String key = path.substring(4, manifestsAt) + "@" + path.substring(manifestsAt + 11);
                    if (m.equals("PUT")) {
                        String digest = sha256(body);
                        String type = ex.getRequestHeaders().getFirst("Content-Type");
                        for (String k : new String[] {key, path.substring(4, manifestsAt) + "@" + digest}) {
                            manifests.put(k, body);
                            types.put(k, type);
                        }
                        ex.getResponseHeaders().set("Docker-Content-Digest", digest);
                        send(ex, m, 201, null);
                        return;
                    }
                    byte[] b = manifests.get(key);
                    if (b != null) {
                        ex.getResponseHeaders().set("Content-Type", types.get(key));
                        ex.getResponseHeaders().set("Docker-Content-Digest", sha256(b));
                    }
                    send(ex, m, b == null ? 404 : 200, b);
                } else {
                    send(ex, m, 404, null);
                }
            }
        }

        private static void send(HttpExchange ex, String method, int status, byte[] body) throws IOException {
            if (body == null || method.equals("HEAD")) {
                ex.sendResponseHeaders(status, -1);
            } else {
                ex.sendResponseHeaders(status, body.length);
                ex.getResponseBody().write(body);
            }
        }
    }

    static String sha256(byte[] b) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpServer server() throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.start();
        servers.add(s);
        return s;
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static MainTest.Run withStdin(String stdin, String... args) {
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            return MainTest.run(args);
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void explicitCredentialsGoToTheDestinationOnly() throws IOException {
        // SRC: anyone gets a token from its token server, which records what it was sent
        List<String> atSourceRealm = Collections.synchronizedList(new ArrayList<>());
        StandIn src = new StandIn();
        HttpServer realm = server();
        realm.createContext("/token", ex -> {
            atSourceRealm.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            byte[] t = "{\"token\":\"src-token\"}".getBytes(StandardCharsets.UTF_8);
            try (ex) {
                ex.sendResponseHeaders(200, t.length);
                ex.getResponseBody().write(t);
            }
        });
        HttpServer srcServer = server();
        srcServer.createContext("/v2/", ex -> {
            if ("Bearer src-token".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                src.handle(ex);
            } else {
                try (ex) {
                    ex.getRequestBody().readAllBytes();
                    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:" + realm.getAddress().getPort()
                            + "/token\",service=\"src\"");
                    ex.sendResponseHeaders(401, -1);
                }
            }
        });
        // DEST: Basic auth as destuser
        List<String> atDest = Collections.synchronizedList(new ArrayList<>());
        StandIn dst = new StandIn();
        HttpServer dstServer = server();
        dstServer.createContext("/v2/", ex -> {
            String a = ex.getRequestHeaders().getFirst("Authorization");
            atDest.add(String.valueOf(a));
            if (basic("destuser", "destpass").equals(a)) {
                dst.handle(ex);
            } else {
                try (ex) {
                    ex.getRequestBody().readAllBytes();
                    ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"dst\"");
                    ex.sendResponseHeaders(401, -1);
                }
            }
        });
        String srcHost = "127.0.0.1:" + srcServer.getAddress().getPort();
        String dstHost = "127.0.0.1:" + dstServer.getAddress().getPort();
        Path noConfig = dir.resolve("no-config.json");
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "cairn\n");
        String lay = dir.resolve("layout") + ":img";
        assertThat(MainTest.run("oci", "layer", "add", lay, tree.toString(), "--type", "tar").code()).isZero();
        MainTest.Run seeded = MainTest.run("oci", "push", lay, srcHost + "/a/b:1", "--authfile", noConfig.toString());
        assertThat(seeded.code()).as(seeded.err()).isZero();
        atSourceRealm.clear();

        MainTest.Run copy = withStdin("destpass\n", "oci", "copy", "docker://" + srcHost + "/a/b:1", "docker://" + dstHost + "/c/d:1",
                "--username", "destuser", "--password-stdin", "--authfile", noConfig.toString());
        assertThat(copy.code()).as(copy.err()).isZero();
        assertThat(atSourceRealm).as("Authorization headers SRC's token server saw").isNotEmpty().containsOnly("null");
        assertThat(atDest).as("DEST got the credentials").contains(basic("destuser", "destpass"));
        assertThat(dst.manifests).containsKey("c/d@1");

        // with one registry reference, they are that registry's; other hosts never see them
        atSourceRealm.clear();
        MainTest.Run inspect = withStdin("destpass\n", "oci", "inspect", "docker://" + dstHost + "/c/d:1",
                "--username", "destuser", "--password-stdin", "--authfile", noConfig.toString());
        assertThat(inspect.code()).as(inspect.err()).isZero();
        MainTest.Run pull = withStdin("destpass\n", "oci", "pull", srcHost + "/a/b:1", dir.resolve("pulled") + ":img",
                "--username", "destuser", "--password-stdin", "--authfile", noConfig.toString());
        assertThat(pull.code()).as(pull.err()).isZero();
        assertThat(atSourceRealm).as("SRC's realm gets the credentials given for SRC").contains(basic("destuser", "destpass"));
    }

    /** A Basic-auth stand-in that records the Authorization headers it sees. */
    private HttpServer basicRegistry(StandIn store, String user, String password, List<String> seen) throws IOException {
        HttpServer server = server();
        server.createContext("/v2/", ex -> {
            String a = ex.getRequestHeaders().getFirst("Authorization");
            seen.add(String.valueOf(a));
            if (basic(user, password).equals(a)) {
                store.handle(ex);
            } else {
                try (ex) {
                    ex.getRequestBody().readAllBytes();
                    ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"r\"");
                    ex.sendResponseHeaders(401, -1);
                }
            }
        });
        return server;
    }

    @Test
    void sourceCredentialsGoToTheSourceOnly() throws IOException {
        List<String> atSrc = Collections.synchronizedList(new ArrayList<>());
        List<String> atDst = Collections.synchronizedList(new ArrayList<>());
        StandIn src = new StandIn();
        StandIn dst = new StandIn();
        String srcHost = "127.0.0.1:" + basicRegistry(src, "srcuser", "srcpass", atSrc).getAddress().getPort();
        String dstHost = "127.0.0.1:" + basicRegistry(dst, "destuser", "destpass", atDst).getAddress().getPort();
        Path noConfig = dir.resolve("no-config.json");
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "cairn\n");
        String lay = dir.resolve("layout") + ":img";
        assertThat(MainTest.run("oci", "layer", "add", lay, tree.toString(), "--type", "tar").code()).isZero();
        MainTest.Run seeded = withStdin("srcpass\n", "oci", "push", lay, srcHost + "/a/b:1", "--username", "srcuser", "--password-stdin",
                "--authfile", noConfig.toString());
        assertThat(seeded.code()).as(seeded.err()).isZero();
        atSrc.clear();
        Path srcPw = Files.writeString(dir.resolve("src-pw"), "srcpass\n");

        MainTest.Run copy = withStdin("destpass\n", "oci", "copy", "docker://" + srcHost + "/a/b:1", "docker://" + dstHost + "/c/d:1",
                "--username", "destuser", "--password-stdin", "--src-username", "srcuser", "--src-password-file", srcPw.toString(),
                "--authfile", noConfig.toString());
        assertThat(copy.code()).as(copy.err()).isZero();
        assertThat(dst.manifests).containsKey("c/d@1");
        assertThat(atSrc).as("SRC saw only its own credentials").contains(basic("srcuser", "srcpass"))
                .doesNotContain(basic("destuser", "destpass"));
        assertThat(atDst).as("DEST saw only its own credentials").contains(basic("destuser", "destpass"))
                .doesNotContain(basic("srcuser", "srcpass"));

        // SRC's alone, from standard input, into a layout
        atDst.clear();
        MainTest.Run pull = withStdin("srcpass\n", "oci", "copy", "docker://" + srcHost + "/a/b:1", "oci:" + dir.resolve("pulled") + ":img",
                "--src-username", "srcuser", "--src-password-stdin", "--authfile", noConfig.toString());
        assertThat(pull.code()).as(pull.err()).isZero();
        assertThat(atDst).isEmpty();

        // usage errors, before any request: both from stdin, a password without a user, a user without a password
        atSrc.clear();
        MainTest.Run both = withStdin("x\n", "oci", "copy", "docker://" + srcHost + "/a/b:1", "docker://" + dstHost + "/c/d:2",
                "--username", "destuser", "--password-stdin", "--src-username", "srcuser", "--src-password-stdin");
        assertThat(both.code()).isEqualTo(3);
        assertThat(both.err()).contains("cannot both read standard input");
        MainTest.Run noUser = MainTest.run("oci", "copy", "docker://" + srcHost + "/a/b:1", "docker://" + dstHost + "/c/d:2",
                "--src-password-file", srcPw.toString());
        assertThat(noUser.err()).contains("need --src-username");
        MainTest.Run noPassword = MainTest.run("oci", "copy", "docker://" + srcHost + "/a/b:1", "docker://" + dstHost + "/c/d:2",
                "--src-username", "srcuser");
        assertThat(noPassword.err()).contains("--src-username needs its password one way");
        assertThat(atSrc).isEmpty();
        // a wrong SRC password is SRC's authentication failure (exit 5), and never printed
        Path wrongPw = Files.writeString(dir.resolve("wrong-pw"), "not-the-password\n");
        MainTest.Run wrong = MainTest.run("oci", "copy", "docker://" + srcHost + "/a/b:1", "oci:" + dir.resolve("w") + ":img",
                "--src-username", "srcuser", "--src-password-file", wrongPw.toString(), "--authfile", noConfig.toString());
        assertThat(wrong.code()).isEqualTo(5);
        assertThat(wrong.err()).doesNotContain("not-the-password");
    }
}
