package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.cairn.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upload body publishers, and the client's plain-HTTP/TLS split and shutdown, against
 * in-process servers on the loopback interface (the registry protocol itself is checked against
 * docker-registry in the cli module's ITs).
 */
class RegistryTransportTest {
    @TempDir
    Path dir;

    /** Collects a publisher's bytes, asking for {@code step} buffers at a time. */
    static class Collector implements Flow.Subscriber<ByteBuffer> {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        final int step;
        final int cancelAfter;
        Flow.Subscription subscription;
        int received;
        int maxBuffer;

        Collector(int step, int cancelAfter) {
            this.step = step;
            this.cancelAfter = cancelAfter;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(step);
        }

        @Override
        public void onNext(ByteBuffer b) {
            maxBuffer = Math.max(maxBuffer, b.remaining());
            byte[] a = new byte[b.remaining()];
            b.get(a);
            bytes.writeBytes(a);
            received++;
            if (received == cancelAfter) {
                subscription.cancel();
                done.complete(bytes.toByteArray());
                return;
            }
            if (received % step == 0) {
                subscription.request(step);
            }
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            done.complete(bytes.toByteArray());
        }
    }

    private static byte[] collect(FileRegionPublisher p, int step) throws Exception {
        Collector c = new Collector(step, -1);
        p.subscribe(c);
        byte[] out = c.done.get(30, TimeUnit.SECONDS);
        assertThat(c.maxBuffer).isLessThanOrEqualTo(FileRegionPublisher.SLICE);
        return out;
    }

    @Test
    void fileRegionsArePublishedExactlyAndCanBeSentAgain() throws Exception {
        byte[] data = new byte[FileRegionPublisher.WINDOW + 3 * FileRegionPublisher.SLICE + 12345];
        new java.util.Random(7).nextBytes(data);
        Path f = Files.write(dir.resolve("blob"), data);
        FileRegionPublisher whole = new FileRegionPublisher(f, 0, data.length);
        assertThat(whole.contentLength()).isEqualTo(data.length);
        assertThat(collect(whole, 1)).isEqualTo(data);
        assertThat(collect(whole, 7)).as("a second subscription reads the file again").isEqualTo(data);
        long off = FileRegionPublisher.WINDOW - 100;
        int len = 2 * FileRegionPublisher.SLICE + 1;
        assertThat(collect(new FileRegionPublisher(f, off, len), 3))
                .isEqualTo(java.util.Arrays.copyOfRange(data, (int) off, (int) off + len));
        assertThat(collect(new FileRegionPublisher(f, 5, 0), 1)).isEmpty();
    }

    @Test
    void aShortFileFailsTheSubscriptionAndCancelStopsIt() throws Exception {
        Path f = Files.write(dir.resolve("short"), new byte[1000]);
        Collector c = new Collector(1, -1);
        new FileRegionPublisher(f, 10, 991).subscribe(c);
        assertThatThrownBy(() -> c.done.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(FormatException.class)
                .hasMessageContaining("fewer than the 991");
        byte[] data = new byte[5 * FileRegionPublisher.SLICE];
        Path big = Files.write(dir.resolve("big"), data);
        Collector partial = new Collector(1, 2);
        new FileRegionPublisher(big, 0, data.length).subscribe(partial);
        assertThat(partial.done.get(30, TimeUnit.SECONDS)).hasSize(2 * FileRegionPublisher.SLICE);
        assertThat(partial.received).as("nothing after cancel").isEqualTo(2);
        Collector bad = new Collector(1, -1) {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(0);
            }
        };
        new FileRegionPublisher(big, 0, data.length).subscribe(bad);
        assertThatThrownBy(() -> bad.done.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void exactLengthStreamsStopAtTheLengthAndRefuseToEndEarly() throws IOException {
        InputStream in = new ExactLengthInputStream(new ByteArrayInputStream(new byte[10]), 4, "x");
        assertThat(in.readAllBytes()).hasSize(4);
        assertThat(in.read()).isEqualTo(-1);
        InputStream shortOne = new ExactLengthInputStream(new ByteArrayInputStream(new byte[3]), 4, "blob sha256:x from offset 0");
        assertThatThrownBy(shortOne::readAllBytes).isInstanceOf(FormatException.class)
                .hasMessageContaining("ended after 3 of 4 bytes");
        InputStream bytewise = new ExactLengthInputStream(new ByteArrayInputStream(new byte[] {7, 8, 9}), 2, "x");
        assertThat(bytewise.read()).isEqualTo(7);
        assertThat(bytewise.read()).isEqualTo(8);
        assertThat(bytewise.read()).as("stops at the length").isEqualTo(-1);
        InputStream bytewiseShort = new ExactLengthInputStream(new ByteArrayInputStream(new byte[] {1}), 2, "x");
        assertThat(bytewiseShort.read()).isEqualTo(1);
        assertThatThrownBy(bytewiseShort::read).isInstanceOf(FormatException.class).hasMessageContaining("ended after 1 of 2 bytes");
    }

    private static RegistryClient.Options options(Set<String> insecure, SSLContext ctx) {
        return RegistryClient.Options.defaults(h -> Optional.empty()).withInsecureHosts(insecure).withSslContext(ctx);
    }

    private static void answer(HttpExchange ex, int status, String location, byte[] body) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            if (location != null) {
                ex.getResponseHeaders().set("Location", location);
            }
            if (body != null) {
                ex.getResponseHeaders().set("Content-Type", MediaTypes.MANIFEST);
                ex.getResponseHeaders().set("Docker-Content-Digest", Digest.ofBytes(body).toString());
            }
            ex.sendResponseHeaders(status, body == null ? -1 : body.length);
            if (body != null) {
                ex.getResponseBody().write(body);
            }
        }
    }

    private static List<Thread> selectorThreads() {
        List<Thread> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("HttpClient-") && t.getName().endsWith("-SelectorManager")) {
                out.add(t);
            }
        }
        return out;
    }

    @Test
    void plainHttpNeedsNoTlsAndARedirectIntoHttpsIsFollowedWithTls() throws Exception {
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.MANIFEST + "\",\"config\":{\"mediaType\":\""
                + "application/vnd.oci.empty.v1+json\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\","
                + "\"size\":2},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);
        SSLContext serverTls = selfSignedLoopbackTls();
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        https.createContext("/v2/", ex -> answer(ex, 200, null, manifest));
        https.start();
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String httpsBase = "https://127.0.0.1:" + https.getAddress().getPort();
        http.createContext("/v2/plain/", ex -> answer(ex, 200, null, manifest));
        http.createContext("/v2/moved/", ex -> answer(ex, 307, httpsBase + ex.getRequestURI().getPath(), null));
        http.start();
        List<Thread> before = selectorThreads();
        String host = "127.0.0.1:" + http.getAddress().getPort();
        try (RegistryClient client = new RegistryClient(options(Set.of(host), serverTls))) {
            assertThat(client.url(RegistryReference.parse(host + "/plain/os:1"), "/x").getScheme()).isEqualTo("http");
            assertThat(client.getManifest(RegistryReference.parse(host + "/plain/os:1"), "1").bytes()).isEqualTo(manifest);
            assertThat(client.getManifest(RegistryReference.parse(host + "/moved/os:1"), "1").bytes())
                    .as("exchange() follows the redirect into https with the TLS client")
                    .isEqualTo(manifest);
            assertThat(selectorThreads()).hasSizeGreaterThanOrEqualTo(before.size() + 2);
        } finally {
            http.stop(0);
            https.stop(0);
        }
        // close() ended both clients' selector threads (a JVM exiting with them in epoll_wait waits for them)
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<Thread> left = selectorThreads();
        left.removeAll(before);
        for (Thread t : left) {
            t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            assertThat(t.isAlive()).as(t.getName()).isFalse();
        }
    }

    @Test
    void aLocalBlobThatCannotBeReadIsReportedAsSuchAndNotRetried() throws Exception {
        List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/v2/", ex -> {
            String path = ex.getRequestURI().getPath();
            requests.add(ex.getRequestMethod() + " " + path);
            if (ex.getRequestMethod().equals("POST")) {
                answer(ex, 202, path + "session", null);
            } else if (ex.getRequestMethod().equals("HEAD")) {
                answer(ex, 404, null, null);
            } else {
                answer(ex, 202, path, null);
            }
        });
        http.start();
        String host = "127.0.0.1:" + http.getAddress().getPort();
        Path gone = dir.resolve("deleted-blob");
        for (long size : new long[] {10, 300L << 20}) { // monolithic PUT, and chunked PATCHes
            // one repository per size: a request of the previous attempt may still arrive late
            String repo = "/local/os" + size;
            Descriptor d = Descriptor.of("application/octet-stream", Digest.ofBytes(new byte[1]), size);
            try (RegistryClient client = new RegistryClient(RegistryClient.Options.defaults(h -> Optional.empty())
                    .withRetries(6, Duration.ofMillis(1)))) {
                RegistryClient.BlobSource source = new RegistryClient.BlobSource() {
                    @Override
                    public InputStream open(long offset) throws IOException {
                        return Files.newInputStream(gone);
                    }

                    @Override
                    public Path file() {
                        return gone;
                    }
                };
                assertThatThrownBy(() -> client.pushBlob(RegistryReference.parse(host + repo + ":1"), d, source))
                        .as("size %d", size).isInstanceOf(java.nio.file.NoSuchFileException.class);
            }
            // the body's request may reach the server before its body fails; nothing is retried
            List<String> mine;
            synchronized (requests) {
                mine = requests.stream().filter(r -> r.contains(repo + "/")).map(r -> r.substring(0, r.indexOf(' '))).toList();
            }
            assertThat(mine).as("size %d: one attempt, no retries", size).startsWith("HEAD", "POST").hasSizeLessThanOrEqualTo(3);
        }
        http.stop(0);
    }

    /** A loopback server on a fresh port. */
    private static HttpServer server() throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.start();
        return s;
    }

    private static final byte[] MANIFEST = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.MANIFEST + "\",\"config\":{\"mediaType\":\""
            + "application/vnd.oci.empty.v1+json\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\","
            + "\"size\":2},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);

    @Test
    void aRedirectToAnotherHostDoesNotCarryTheAuthorizationHeader() throws Exception {
        Credentials alice = new Credentials("alice", "s3cret");
        List<String> elsewhere = java.util.Collections.synchronizedList(new ArrayList<>());
        HttpServer store = server(); // a blob store or CDN behind the registry: "localhost", not "127.0.0.1"
        store.createContext("/", ex -> {
            elsewhere.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            answer(ex, 200, null, MANIFEST);
        });
        HttpServer registry = server();
        String storeBase = "http://localhost:" + store.getAddress().getPort();
        registry.createContext("/v2/", ex -> {
            if (!alice.basicHeader().equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"r\"");
                answer(ex, 401, null, null);
            } else if (ex.getRequestURI().getPath().startsWith("/v2/away/")) {
                answer(ex, 307, storeBase + ex.getRequestURI().getPath(), null);
            } else if (ex.getRequestURI().getPath().startsWith("/v2/same/")) {
                answer(ex, 302, "/v2/here/" + ex.getRequestURI().getPath().substring(9), null); // same host: keeps the login
            } else {
                answer(ex, 200, null, MANIFEST);
            }
        });
        String host = "127.0.0.1:" + registry.getAddress().getPort();
        try (RegistryClient client = new RegistryClient(RegistryClient.Options.defaults(
                h -> h.equals(host) ? Optional.of(alice) : Optional.empty()))) {
            assertThat(client.getManifest(RegistryReference.parse(host + "/same/os:1"), "1").bytes()).isEqualTo(MANIFEST);
            assertThat(client.getManifest(RegistryReference.parse(host + "/away/os:1"), "1").bytes()).isEqualTo(MANIFEST);
        } finally {
            registry.stop(0);
            store.stop(0);
        }
        assertThat(elsewhere).as("Authorization headers the other host saw").containsExactly("null");
    }

    @Test
    void aTokenRealmRedirectingToAnotherHostDoesNotGetTheCredentials() throws Exception {
        Credentials alice = new Credentials("alice", "s3cret");
        List<String> atRealm = java.util.Collections.synchronizedList(new ArrayList<>());
        List<String> elsewhere = java.util.Collections.synchronizedList(new ArrayList<>());
        HttpServer other = server();
        other.createContext("/", ex -> {
            elsewhere.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            byte[] token = "{\"token\":\"t0ken\"}".getBytes(StandardCharsets.UTF_8);
            try (ex) {
                ex.sendResponseHeaders(200, token.length);
                ex.getResponseBody().write(token);
            }
        });
        HttpServer realm = server();
        realm.createContext("/token", ex -> {
            atRealm.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            answer(ex, 307, "http://localhost:" + other.getAddress().getPort() + "/issue?" + ex.getRequestURI().getRawQuery(), null);
        });
        HttpServer registry = server();
        registry.createContext("/v2/", ex -> {
            if ("Bearer t0ken".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                answer(ex, 200, null, MANIFEST);
            } else {
                ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:" + realm.getAddress().getPort()
                        + "/token\",service=\"test\"");
                answer(ex, 401, null, null);
            }
        });
        String host = "127.0.0.1:" + registry.getAddress().getPort();
        try (RegistryClient client = new RegistryClient(RegistryClient.Options.defaults(
                h -> h.equals(host) ? Optional.of(alice) : Optional.empty()))) {
            assertThat(client.getManifest(RegistryReference.parse(host + "/os:1"), "1").bytes()).isEqualTo(MANIFEST);
        } finally {
            registry.stop(0);
            realm.stop(0);
            other.stop(0);
        }
        assertThat(atRealm).as("the registry's own realm gets its Basic credentials, as docker sends them").containsExactly(alice.basicHeader());
        assertThat(elsewhere).as("Authorization headers the host the realm redirected to saw").containsExactly("null");
    }

    @Test
    void aMalformedTokenResponseIsReportedWithoutItsText() throws Exception {
        String secret = "ghp_SuperSecretToken123";
        HttpServer registry = server();
        String realmUrl = "http://127.0.0.1:" + registry.getAddress().getPort() + "/token";
        registry.createContext("/token", ex -> {
            byte[] body = ("{\"token\": " + secret + "}").getBytes(StandardCharsets.UTF_8);
            try (ex) {
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            }
        });
        registry.createContext("/v2/", ex -> {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"" + realmUrl + "\"");
            answer(ex, 401, null, null);
        });
        String host = "127.0.0.1:" + registry.getAddress().getPort();
        Throwable t;
        try (RegistryClient client = new RegistryClient(RegistryClient.Options.defaults(h -> Optional.empty()))) {
            t = org.assertj.core.api.Assertions.catchThrowable(() -> client.getManifest(RegistryReference.parse(host + "/os:1"), "1"));
        } finally {
            registry.stop(0);
        }
        assertThat(t).isInstanceOf(FormatException.class).hasMessageStartingWith("token response: malformed JSON: syntax error (line 1");
        OciJsonTest.assertNoSecret(t, secret);
    }

    /** Server TLS for 127.0.0.1 with a self-signed certificate; the same context trusts it on the client side. */
    private static SSLContext selfSignedLoopbackTls() throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = kpg.generateKeyPair();
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=127.0.0.1");
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(3600)), name, kp.getPublic())
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", kp.getPrivate(), new char[0], new java.security.cert.Certificate[] {cert});
        ks.setCertificateEntry("trusted", cert);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
