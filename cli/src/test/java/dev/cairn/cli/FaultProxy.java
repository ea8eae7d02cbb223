package dev.cairn.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test proxy in front of a registry that misbehaves on a fixed schedule: answers 500 or 429
 * instead of forwarding, cuts blob downloads and uploads off half-way, and answers 401 with a
 * fresh Bearer challenge as if the token had expired. Location headers are rewritten to point
 * back at the proxy.
 */
final class FaultProxy implements AutoCloseable {
    private static final Set<String> HOP = Set.of("connection", "content-length", "transfer-encoding", "host", "upgrade",
            "keep-alive", "date");
    private final HttpServer server;
    private final String upstream;
    private final String realm;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger faults = new AtomicInteger();
    /** Faults left per kind: 500, 429, expired token, upload dropped before/after reaching the registry, download cut. */
    private final AtomicInteger errors500 = new AtomicInteger(6);
    private final AtomicInteger errors429 = new AtomicInteger(3);
    private final AtomicInteger expired = new AtomicInteger(3);
    private final AtomicInteger dropBefore = new AtomicInteger(2);
    private final AtomicInteger dropHalf = new AtomicInteger(1);
    private final AtomicInteger cutDownloads = new AtomicInteger(2);

    private static boolean take(AtomicInteger budget) {
        return budget.getAndUpdate(v -> Math.max(0, v - 1)) > 0;
    }

    FaultProxy(String upstreamHostPort, String realm) throws IOException {
        this.upstream = upstreamHostPort;
        this.realm = realm;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.start();
    }

    String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        int n = requests.incrementAndGet();
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getRawPath();
        boolean blob = path.contains("/blobs/");
        byte[] body = ex.getRequestBody().readAllBytes();
        try (ex) {
            if (!path.equals("/v2/") && n % 7 == 3 && take(errors500)) {
                faults.incrementAndGet();
                ex.sendResponseHeaders(500, -1);
                return;
            }
            if (!path.equals("/v2/") && n % 11 == 5 && take(errors429)) {
                faults.incrementAndGet();
                ex.getResponseHeaders().set("Retry-After", "0");
                ex.sendResponseHeaders(429, -1);
                return;
            }
            if (realm != null && ex.getRequestHeaders().containsKey("Authorization") && n % 13 == 8 && take(expired)) {
                faults.incrementAndGet(); // "expired token"
                String repo = path.replaceFirst("^/v2/", "").replaceFirst("/(blobs|manifests|tags)/.*$", "");
                ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"" + TokenIssuer.SERVICE
                        + "\",scope=\"repository:" + repo + ":pull\",error=\"invalid_token\"");
                ex.sendResponseHeaders(401, -1);
                return;
            }
            if (blob && (method.equals("PATCH") || method.equals("PUT")) && body.length > 1000 && n % 6 == 0 && take(dropBefore)) {
                faults.incrementAndGet(); // connection dropped before the registry saw the request: resumable
                throw new IOException("fault: connection dropped");
            }
            if (blob && (method.equals("PATCH") || method.equals("PUT")) && body.length > 1000 && n % 6 == 3 && take(dropHalf)) {
                faults.incrementAndGet(); // connection dropped mid-upload: half the body reached the registry
                forward(ex, method, java.util.Arrays.copyOf(body, body.length / 2), true);
                return;
            }
            forward(ex, method, body, false);
        }
    }

    private void forward(HttpExchange ex, String method, byte[] body, boolean drop) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + upstream + ex.getRequestURI()));
        for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
            if (!HOP.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))) {
                for (String v : h.getValue()) {
                    b.header(h.getKey(), v);
                }
            }
        }
        b.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        if (drop) {
            throw new IOException("fault: connection dropped"); // HttpServer closes the connection without a response
        }
        for (Map.Entry<String, List<String>> h : resp.headers().map().entrySet()) {
            if (!HOP.contains(h.getKey().toLowerCase(java.util.Locale.ROOT)) && !h.getKey().startsWith(":")) {
                for (String v : h.getValue()) {
                    ex.getResponseHeaders().add(h.getKey(), h.getKey().equalsIgnoreCase("Location") ? v.replace(upstream, host()) : v);
                }
            }
        }
        byte[] out = resp.body();
        boolean blobGet = method.equals("GET") && ex.getRequestURI().getRawPath().matches(".*/blobs/sha256:[0-9a-f]{64}")
                && out.length > 1000 && take(cutDownloads);
        if (method.equals("HEAD")) {
            String len = resp.headers().firstValue("Content-Length").orElse("0");
            ex.getResponseHeaders().set("Content-Length", len);
            ex.sendResponseHeaders(resp.statusCode(), -1);
            return;
        }
        ex.sendResponseHeaders(resp.statusCode(), out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            OutputStream o = ex.getResponseBody();
            if (blobGet) {
                faults.incrementAndGet(); // connection dropped mid-download
                o.write(out, 0, out.length / 2);
                o.flush();
                throw new IOException("fault: download cut off");
            }
            o.write(out);
            o.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
