package dev.cairn.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A distribution-spec 1.1 client on {@code java.net.http}: manifests and blobs, monolithic and
 * chunked uploads, HEAD before push, explicit OCI {@code Accept} lists, anonymous/Basic/Bearer
 * auth (token fetched from the challenge's realm and re-fetched on a later 401), and retries
 * with exponential backoff on 5xx, 429 and broken connections. Plain HTTP is used only for
 * loopback hosts and hosts listed as insecure.
 */
public final class RegistryClient implements AutoCloseable {
    /** Client settings. */
    public record Options(Function<String, Optional<Credentials>> credentials, Set<String> insecureHosts, int maxAttempts,
                          Duration initialBackoff, long chunkThreshold, int chunkSize, Duration timeout,
                          javax.net.ssl.SSLContext sslContext) {
        public Options {
            insecureHosts = Set.copyOf(insecureHosts);
            if (maxAttempts < 1 || chunkSize < 1024 || chunkThreshold < 0) {
                throw new IllegalArgumentException("invalid registry client options");
            }
        }

        public static Options defaults(Function<String, Optional<Credentials>> credentials) {
            return new Options(credentials, Set.of(), 6, Duration.ofMillis(200), 128L << 20, 128 << 20, Duration.ofMinutes(5), null);
        }

        public Options withInsecureHosts(Set<String> hosts) {
            return new Options(credentials, hosts, maxAttempts, initialBackoff, chunkThreshold, chunkSize, timeout, sslContext);
        }

        public Options withChunking(long threshold, int size) {
            return new Options(credentials, insecureHosts, maxAttempts, initialBackoff, threshold, size, timeout, sslContext);
        }

        public Options withRetries(int attempts, Duration backoff) {
            return new Options(credentials, insecureHosts, attempts, backoff, chunkThreshold, chunkSize, timeout, sslContext);
        }

        /** TLS trust (e.g. the system CAs plus {@code --ca-file}); null for the JDK default. */
        public Options withSslContext(javax.net.ssl.SSLContext ctx) {
            return new Options(credentials, insecureHosts, maxAttempts, initialBackoff, chunkThreshold, chunkSize, timeout, ctx);
        }
    }

    /** Where a blob's bytes come from: re-openable at any offset (for retries and resumed uploads). */
    public interface BlobSource {
        InputStream open(long offset) throws IOException;

        /** The file holding the blob, when there is one (sent with zero-copy file reads); else null. */
        default java.nio.file.Path file() {
            return null;
        }

        /** {@code bytes} more of the blob were handed to the connection (for a progress display; retries count again). */
        default void sent(long bytes) {
        }
    }

    /** A manifest as the registry returned it. */
    public record FetchedManifest(Descriptor descriptor, byte[] bytes) {
        public FetchedManifest {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }
    }

    private final Options options;
    /** For https URLs (and redirects into https); built on first use. */
    private HttpClient tls;
    /** For http URLs: no TLS set-up at all (trust store, cipher suites); built on first use. */
    private HttpClient plain;
    private boolean closed;
    /** Authorization header per "host repository". */
    private final Map<String, String> auth = new ConcurrentHashMap<>();
    private int retries;

    public RegistryClient(Options options) {
        this.options = options;
    }

    /**
     * The client for {@code uri}. Plain-HTTP registries (loopback, {@code --insecure-registry})
     * get a client without TLS: building the JDK's default TLS context (trust store, cipher
     * suites) is about a quarter of a second of every registry command (measured, bench/oci.sh).
     * Should such a registry redirect into https, the request is sent again with the TLS client.
     */
    private synchronized HttpClient client(URI uri) {
        if (closed) {
            throw new IllegalStateException("registry client is closed");
        }
        if ("http".equalsIgnoreCase(uri.getScheme())) {
            if (plain == null) {
                plain = builder().sslContext(PlainHttpOnly.CONTEXT).sslParameters(new javax.net.ssl.SSLParameters()).build();
            }
            return plain;
        }
        return tlsClient();
    }

    private synchronized HttpClient tlsClient() {
        if (closed) {
            throw new IllegalStateException("registry client is closed");
        }
        if (tls == null) {
            HttpClient.Builder b = builder();
            if (options.sslContext() != null) {
                b.sslContext(options.sslContext());
            }
            tls = b.build();
        }
        return tls;
    }

    /**
     * Stops the HTTP clients' selector threads. Until then each sits in {@code epoll_wait}, and a
     * JVM exiting with a thread in native code waits up to 0.3 s for it (HotSpot's exit protocol;
     * measured on every registry command). On JDK 21+ the clients are shut down with
     * {@code HttpClient.shutdownNow()} (not {@code close()}, which would wait for a response body
     * nobody reads any more); JDK 17–20 lack it, so the selector thread is interrupted, which ends
     * its loop and shuts the client down (the thread's name carries the client id that the
     * client's {@code toString()} ends with, as the JDK's own tests rely on).
     */
    @Override
    public synchronized void close() {
        for (HttpClient c : new HttpClient[] {plain, tls}) {
            if (c == null) {
                continue;
            }
            try {
                HttpClient.class.getMethod("shutdownNow").invoke(c);
                continue;
            } catch (NoSuchMethodException e) {
                // JDK 17-20: interrupt the selector thread below
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue; // best effort: the process is done with the registry
            }
            String s = c.toString();
            int open = s.lastIndexOf('(');
            if (open >= 0 && s.endsWith(")")) {
                String name = "HttpClient-" + s.substring(open + 1, s.length() - 1) + "-SelectorManager";
                ThreadGroup root = Thread.currentThread().getThreadGroup();
                while (root.getParent() != null) {
                    root = root.getParent();
                }
                Thread[] threads = new Thread[root.activeCount() + 16];
                int n = root.enumerate(threads);
                for (int i = 0; i < n; i++) {
                    if (threads[i].getName().equals(name)) {
                        threads[i].interrupt();
                    }
                }
            }
        }
        plain = null;
        tls = null;
        closed = true;
    }

    private static HttpClient.Builder builder() {
        // redirects are followed by exchange(), which keeps Authorization on the original host only
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30));
    }

    /** As many redirects as the JDK's own client follows. */
    private static final int MAX_REDIRECTS = 5;

    /**
     * Sends {@code request} and follows redirects (301, 302, 303, 307, 308; never from https to
     * http) as the JDK's {@code Redirect.NORMAL} would, each hop with the client for its scheme, so
     * a plain-HTTP registry redirecting into https is followed over TLS. Unlike the JDK's client,
     * which copies every header to the new location, the {@code Authorization} header (Basic
     * credentials or a registry's token) is dropped as soon as a hop leaves the request's host and
     * port: a blob store or another registry behind a redirect never sees it.
     */
    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        HttpResponse.BodyHandler<T> h = info -> redirect(info.statusCode(), info.headers()) != null
                ? HttpResponse.BodySubscribers.replacing(null) : handler.apply(info);
        HttpRequest req = request;
        for (int hop = 0; ; hop++) {
            HttpResponse<T> resp = sendWith(req, h);
            String location = redirect(resp.statusCode(), resp.headers());
            if (location == null) {
                return resp;
            }
            URI next;
            try {
                next = req.uri().resolve(location);
            } catch (IllegalArgumentException e) {
                throw new RegistryException(resp.statusCode(), "REDIRECT", req.uri().getHost() + " redirected to an invalid location");
            }
            if (hop >= MAX_REDIRECTS) {
                throw new RegistryException(resp.statusCode(), "REDIRECT", "more than " + MAX_REDIRECTS + " redirects from "
                        + request.uri().getHost());
            }
            if (next.getHost() == null || !("https".equalsIgnoreCase(next.getScheme()) || "http".equalsIgnoreCase(next.getScheme()))
                    || "https".equalsIgnoreCase(req.uri().getScheme()) && !"https".equalsIgnoreCase(next.getScheme())) {
                throw new RegistryException(resp.statusCode(), "REDIRECT", req.uri().getHost() + " redirected to a location cairn does not follow ("
                        + next.getScheme() + "://" + next.getHost() + ")");
            }
            req = redirected(req, next, resp.statusCode(), sameHostAndPort(request.uri(), next));
        }
    }

    /** The Location of a redirect the JDK's {@code Redirect.NORMAL} would follow, or null. */
    private static String redirect(int status, java.net.http.HttpHeaders headers) {
        if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
            return null;
        }
        return headers.firstValue("Location").orElse(null);
    }

    static boolean sameHostAndPort(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** {@code req} sent again to {@code next}: 303 (and 301/302 of a POST) become a GET without body. */
    private static HttpRequest redirected(HttpRequest req, URI next, int status, boolean keepAuthorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(next).expectContinue(req.expectContinue());
        req.timeout().ifPresent(b::timeout);
        req.version().ifPresent(b::version);
        boolean toGet = status == 303 || (status == 301 || status == 302) && req.method().equals("POST");
        if (toGet) {
            b.GET();
        } else {
            b.method(req.method(), req.bodyPublisher().orElse(HttpRequest.BodyPublishers.noBody()));
        }
        req.headers().map().forEach((name, values) -> {
            String n = name.toLowerCase(Locale.ROOT);
            if (n.equals("authorization") && !keepAuthorization
                    || toGet && (n.equals("content-type") || n.equals("content-range"))
                    || n.equals("content-length") || n.equals("host") || n.equals("connection") || n.equals("expect") || n.equals("upgrade")) {
                return;
            }
            values.forEach(v -> b.header(name, v));
        });
        return b.build();
    }

    /**
     * Sends with the client for the request's scheme. Should the plain-HTTP client ever be asked
     * for TLS, the request is sent again with the TLS client.
     */
    private <T> HttpResponse<T> sendWith(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        HttpClient c = client(request.uri());
        try {
            return c.send(request, handler);
        } catch (IOException e) {
            if (c.sslContext() != PlainHttpOnly.CONTEXT || !PlainHttpOnly.causedBy(e)) {
                throw e;
            }
            return tlsClient().send(request, handler);
        }
    }

    /** How many requests were retried (after a 5xx, 429 or broken connection) so far. */
    public synchronized int retries() {
        return retries;
    }

    // ------------------------------------------------------------------ endpoints

    public boolean blobExists(RegistryReference r, Digest d) throws IOException {
        HttpResponse<InputStream> resp = send(r, "pull", () -> request(url(r, "/blobs/" + d)).method("HEAD", HttpRequest.BodyPublishers.noBody()));
        drain(resp);
        if (resp.statusCode() == 200) {
            return true;
        }
        if (resp.statusCode() == 404) {
            return false;
        }
        throw error(resp, "HEAD blob " + d);
    }

    /** Uploads a blob unless the registry has it; returns whether bytes were sent. */
    public boolean pushBlob(RegistryReference r, Descriptor d, BlobSource source) throws IOException {
        if (blobExists(r, d.digest())) {
            return false;
        }
        int attempt = 0;
        while (true) {
            try {
                if (d.size() > options.chunkThreshold()) {
                    pushChunked(r, d, source);
                } else {
                    pushMonolithic(r, d, source);
                }
                return true;
            } catch (RegistryException e) {
                if (++attempt >= options.maxAttempts() || !(e.status() == -1 || e.status() >= 500 || e.status() == 429
                        || "BLOB_UPLOAD_INVALID".equals(e.code()) || "BLOB_UPLOAD_UNKNOWN".equals(e.code()))) {
                    throw e;
                }
                countRetry();
                sleep(attempt, null);
            }
        }
    }

    /**
     * Cross-repository mount: asks the registry to link blob {@code d} of {@code fromRepository}
     * (same registry) into {@code r}'s repository. True when mounted (201); false when the registry
     * opened an upload session instead (202: it does not have the blob there, or refuses to mount).
     */
    public boolean mountBlob(RegistryReference r, Digest d, String fromRepository) throws IOException {
        URI u = withQuery(url(r, "/blobs/uploads/"), "mount=" + enc(d.toString()) + "&from=" + enc(fromRepository));
        HttpResponse<InputStream> resp = send(r, "pull,push", () -> request(u).POST(HttpRequest.BodyPublishers.noBody()));
        drain(resp);
        if (resp.statusCode() == 201) {
            return true;
        }
        if (resp.statusCode() == 202) {
            return false; // the session it opened expires on its own
        }
        throw error(resp, "mount " + d + " from " + fromRepository);
    }

    private URI startUpload(RegistryReference r) throws IOException {
        HttpResponse<InputStream> resp = send(r, "pull,push", () -> request(url(r, "/blobs/uploads/"))
.POST(HttpRequest.BodyPublishers.noBody()));
        drain(resp);
        if (resp.statusCode() != 202) {
            throw error(resp, "start upload");
        }
        return location(r, resp);
    }

    private void pushMonolithic(RegistryReference r, Descriptor d, BlobSource source) throws IOException {
        URI loc = startUpload(r);
        URI put = withQuery(loc, "digest=" + enc(d.digest().toString()));
        java.nio.file.Path file = source.file();
        if (file != null) {
            // the registry checks the digest of what arrives (DIGEST_INVALID); a tampered file is refused there
            HttpResponse<InputStream> resp = sendOnce(r, "pull,push", () -> request(put).header("Content-Type", "application/octet-stream")
                    .PUT(new FileRegionPublisher(file, 0, d.size(), source::sent)));
            drain(resp);
            if (resp.statusCode() != 201) {
                throw error(resp, "upload blob " + d.digest());
            }
            return;
        }
        HttpResponse<InputStream> resp = sendOnce(r, "pull,push", () -> request(put).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
                    try {
                        return counting(source.open(0), source::sent);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }), d.size())));
        drain(resp);
        if (resp.statusCode() != 201) {
            throw error(resp, "upload blob " + d.digest());
        }
    }

    /**
     * PATCH in {@code chunkSize} pieces with {@code Content-Range}; the {@code Range} each response
     * reports is checked (docker-registry 2.8 does not check ranges itself), and after a broken
     * connection the upload resumes from the offset the registry reports.
     */
    private void pushChunked(RegistryReference r, Descriptor d, BlobSource source) throws IOException {
        URI loc = startUpload(r);
        long offset = 0;
        int failures = 0;
        while (offset < d.size()) {
            long len = Math.min(options.chunkSize(), d.size() - offset);
            long start = offset;
            URI target = loc;
            HttpResponse<InputStream> resp;
            try {
                resp = sendOnce(r, "pull,push", () -> request(target).header("Content-Type", "application/octet-stream")
                        .header("Content-Range", start + "-" + (start + len - 1))
                        .method("PATCH", chunkBody(d, source, start, len)));
                drain(resp);
            } catch (RegistryException e) {
                if (e.status() != -1 || ++failures >= options.maxAttempts()) {
                    throw e;
                }
                countRetry();
                sleep(failures, null);
                offset = resumeOffset(r, loc, start);
                continue;
            }
            if (resp.statusCode() >= 500 || resp.statusCode() == 429) {
                if (++failures >= options.maxAttempts()) {
                    throw error(resp, "upload chunk");
                }
                countRetry();
                sleep(failures, resp);
                offset = resumeOffset(r, loc, start);
                continue;
            }
            if (resp.statusCode() != 202) {
                throw error(resp, "upload chunk " + start + "-" + (start + len - 1) + " of " + d.digest());
            }
            loc = location(r, resp);
            long end = rangeEnd(resp);
            if (end != start + len - 1) {
                throw new RegistryException(resp.statusCode(), "BLOB_UPLOAD_INVALID", "registry reports range 0-" + end
                        + " after chunk " + start + "-" + (start + len - 1) + " of " + d.digest());
            }
            offset = end + 1;
        }
        URI put = withQuery(loc, "digest=" + enc(d.digest().toString()));
        HttpResponse<InputStream> resp = sendOnce(r, "pull,push", () -> request(put)
                .PUT(HttpRequest.BodyPublishers.noBody()));
        drain(resp);
        if (resp.statusCode() != 201) {
            throw error(resp, "finish upload of " + d.digest());
        }
    }

    /**
     * Bytes {@code [start, start+len)} of the blob, streamed: mapped file slices when the source is
     * a file, else the source's stream (which fails, rather than sending short, when it ends early).
     */
    private static HttpRequest.BodyPublisher chunkBody(Descriptor d, BlobSource source, long start, long len) {
        java.nio.file.Path file = source.file();
        if (file != null) {
            return new FileRegionPublisher(file, start, len, source::sent);
        }
        return HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
            try {
                return counting(new ExactLengthInputStream(source.open(start), len, "blob " + d.digest() + " from offset " + start),
                        source::sent);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(new BlobReadException(e));
            }
        }), len);
    }

    /**
     * Where to continue after a failed chunk: the registry must report exactly the bytes confirmed
     * before it ({@code Range: 0-0} also stands for none). Anything else — part of the chunk was
     * appended, or the session is gone — restarts the upload (docker-registry 2.8 cannot truncate).
     */
    private long resumeOffset(RegistryReference r, URI loc, long confirmed) throws IOException {
        long reported = uploadedBytes(r, loc);
        if (reported == confirmed || (confirmed == 0 && reported == 1)) {
            return confirmed;
        }
        throw new RegistryException(416, "BLOB_UPLOAD_INVALID", "registry holds " + reported + " bytes of the upload, "
                + confirmed + " were confirmed; restarting the upload");
    }

    private long uploadedBytes(RegistryReference r, URI loc) throws IOException {
        HttpResponse<InputStream> resp = send(r, "pull,push", () -> request(loc).GET());
        if (resp.statusCode() == 404) {
            drain(resp);
            // docker-registry 2.8 invalidates the session's _state once a request reached it: start over
            throw new RegistryException(404, "BLOB_UPLOAD_UNKNOWN", "upload session is gone; restarting the upload");
        }
        if (resp.statusCode() != 204) {
            throw error(resp, "upload status");
        }
        drain(resp);
        return rangeEnd(resp) + 1;
    }

    private static long rangeEnd(HttpResponse<?> resp) throws RegistryException {
        String range = resp.headers().firstValue("Range").orElse(null);
        if (range == null) {
            return -1;
        }
        int dash = range.lastIndexOf('-');
        try {
            return Long.parseLong(range.substring(dash + 1).trim());
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw new RegistryException(resp.statusCode(), null, "malformed Range header '" + range + "'");
        }
    }

    /**
     * PUTs a manifest (exact bytes) under a tag or digest; checks the digest the registry reports.
     * Returns whether the registry answered {@code OCI-Subject} (it maintains referrers itself).
     */
    public boolean putManifest(RegistryReference r, String tagOrDigest, byte[] bytes, String mediaType) throws IOException {
        Digest mine = Digest.ofBytes(bytes);
        HttpResponse<InputStream> resp = send(r, "pull,push", () -> request(url(r, "/manifests/" + tagOrDigest))
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)));
        drain(resp);
        if (resp.statusCode() != 201) {
            throw error(resp, "PUT manifest " + tagOrDigest);
        }
        Optional<String> dcd = resp.headers().firstValue("Docker-Content-Digest");
        if (dcd.isPresent() && !dcd.get().equals(mine.toString())) {
            throw new RegistryException(201, "DIGEST_INVALID", "registry stored manifest as " + dcd.get() + ", expected " + mine);
        }
        return resp.headers().firstValue("OCI-Subject").isPresent();
    }

    /**
     * HEADs a manifest by tag or digest: the digest the registry reports for it
     * ({@code Docker-Content-Digest}), or empty when it has none (404). A 200 without a digest
     * header answers with the manifest fetched and hashed.
     */
    public Optional<Digest> headManifest(RegistryReference r, String tagOrDigest) throws IOException {
        HttpResponse<InputStream> resp = send(r, "pull", () -> request(url(r, "/manifests/" + tagOrDigest))
                .header("Accept", MediaTypes.MANIFEST_ACCEPT).method("HEAD", HttpRequest.BodyPublishers.noBody()));
        drain(resp);
        if (resp.statusCode() == 404) {
            return Optional.empty();
        }
        if (resp.statusCode() != 200) {
            throw error(resp, "HEAD manifest " + r.repository() + ":" + tagOrDigest);
        }
        Optional<String> dcd = resp.headers().firstValue("Docker-Content-Digest");
        if (dcd.isPresent()) {
            return Optional.of(Digest.parse("Docker-Content-Digest", dcd.get()));
        }
        return Optional.of(getManifest(r, tagOrDigest).descriptor().digest());
    }

    /** GETs a manifest or index; verifies its digest when asked by digest; refuses more than 4 MiB. */
    public FetchedManifest getManifest(RegistryReference r, String tagOrDigest) throws IOException {
        HttpResponse<InputStream> resp = send(r, "pull", () -> request(url(r, "/manifests/" + tagOrDigest))
                .header("Accept", MediaTypes.MANIFEST_ACCEPT).GET());
        if (resp.statusCode() != 200) {
            throw error(resp, "GET manifest " + r.repository() + ":" + tagOrDigest);
        }
        byte[] b;
        try (InputStream in = resp.body()) {
            b = in.readNBytes(OciJson.MAX_MANIFEST_BYTES + 1);
        }
        if (b.length > OciJson.MAX_MANIFEST_BYTES) {
            throw new dev.cairn.io.FormatException("size", "> " + OciJson.MAX_MANIFEST_BYTES, "manifest " + tagOrDigest
                    + " is larger than the limit");
        }
        Digest actual = Digest.ofBytes(b);
        if (tagOrDigest.contains(":") && !actual.toString().equals(tagOrDigest)) {
            throw new dev.cairn.io.FormatException("digest", tagOrDigest, "registry sent a manifest that hashes to " + actual);
        }
        Optional<String> dcd = resp.headers().firstValue("Docker-Content-Digest");
        if (dcd.isPresent() && dcd.get().startsWith("sha256:") && !dcd.get().equals(actual.toString())) {
            throw new dev.cairn.io.FormatException("Docker-Content-Digest", dcd.get(), "registry sent a manifest that hashes to " + actual);
        }
        String type = resp.headers().firstValue("Content-Type").map(t -> t.split(";")[0].trim()).orElse("");
        if (type.isEmpty() || type.equals("application/json")) {
            JsonNode n = OciJson.tree(b, "manifest " + tagOrDigest);
            type = n.path("mediaType").asText(MediaTypes.MANIFEST);
        }
        return new FetchedManifest(Descriptor.of(type, actual, b.length), b);
    }

    /** GETs a blob; the stream fails at its end unless size and digest match {@code d}. */
    public InputStream getBlob(RegistryReference r, Descriptor d) throws IOException {
        return new VerifyingInputStream(openBlob(r, d), d.digest(), d.size(), "blob from " + r.registry());
    }

    /** Downloads a blob into {@code layout}, which stores it only if digest and size match (hashed once). */
    public Descriptor downloadBlob(RegistryReference r, Descriptor d, OciLayout layout) throws IOException {
        return downloadBlob(r, d, layout, n -> { });
    }

    /** Like {@link #downloadBlob(RegistryReference, Descriptor, OciLayout)}; {@code received} hears of the bytes as they arrive. */
    public Descriptor downloadBlob(RegistryReference r, Descriptor d, OciLayout layout, java.util.function.LongConsumer received)
            throws IOException {
        try (InputStream in = counting(openBlob(r, d), received)) {
            return layout.putBlob(in, d.mediaType(), d.digest(), d.size());
        }
    }

    /** {@code in}, telling {@code counter} of every byte read. */
    static InputStream counting(InputStream in, java.util.function.LongConsumer counter) {
        return new java.io.FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    counter.accept(1);
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    counter.accept(n);
                }
                return n;
            }
        };
    }

    private InputStream openBlob(RegistryReference r, Descriptor d) throws IOException {
        HttpResponse<InputStream> resp = send(r, "pull", () -> request(url(r, "/blobs/" + d.digest())).GET());
        if (resp.statusCode() != 200) {
            throw error(resp, "GET blob " + d.digest());
        }
        long len = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (len >= 0 && len != d.size()) {
            drain(resp);
            throw new dev.cairn.io.FormatException("size", d.size(), "registry sends " + len + " bytes for blob " + d.digest());
        }
        return resp.body();
    }

    /** GETs the referrers fallback index at tag {@code sha256-<hex>}, or empty when there is none. */
    public Optional<FetchedManifest> findManifest(RegistryReference r, String tag) throws IOException {
        try {
            return Optional.of(getManifest(r, tag));
        } catch (RegistryException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * The manifests whose {@code subject} is {@code subject}: the referrers API
     * ({@code GET /v2/<name>/referrers/<digest>}, following {@code Link: rel="next"} pages), or —
     * when it answers 404, as docker-registry 2.8 does — the fallback index at tag
     * {@code <alg>-<hex>}. A missing or invalid fallback index means no referrers.
     */
    public List<Descriptor> referrers(RegistryReference r, Digest subject) throws IOException {
        List<Descriptor> out = new ArrayList<>();
        URI next = url(r, "/referrers/" + subject);
        for (int page = 0; next != null; page++) {
            if (page >= 100) {
                throw new dev.cairn.io.FormatException("pages", page, "referrers of " + subject + " span more than 100 pages");
            }
            URI target = next;
            HttpResponse<InputStream> resp = send(r, "pull", () -> request(target).header("Accept", MediaTypes.INDEX).GET());
            if (resp.statusCode() == 404 && page == 0) {
                drain(resp);
                var fallback = findManifest(r, subject.fallbackTag());
                if (fallback.isEmpty()) {
                    return out;
                }
                try {
                    out.addAll(OciJson.decode(fallback.get().bytes(), ImageIndex.class, "referrers index " + subject.fallbackTag()).manifests());
                } catch (dev.cairn.io.FormatException invalid) {
                    // distribution-spec: an invalid fallback index is treated as no referrers
                }
                return out;
            }
            if (resp.statusCode() != 200) {
                throw error(resp, "GET referrers of " + subject);
            }
            byte[] b;
            try (InputStream in = resp.body()) {
                b = in.readNBytes(OciJson.MAX_MANIFEST_BYTES + 1);
            }
            if (b.length > OciJson.MAX_MANIFEST_BYTES) {
                throw new dev.cairn.io.FormatException("size", "> " + OciJson.MAX_MANIFEST_BYTES, "referrers response is larger than the limit");
            }
            out.addAll(OciJson.decode(b, ImageIndex.class, "referrers of " + subject).manifests());
            next = nextLink(target, resp.headers().firstValue("Link").orElse(null));
        }
        return out;
    }

    static URI nextLink(URI base, String link) {
        if (link == null) {
            return null;
        }
        for (String part : link.split(",")) {
            int lt = part.indexOf('<');
            int gt = part.indexOf('>');
            if (lt >= 0 && gt > lt && part.substring(gt).replace(" ", "").contains("rel=\"next\"")) {
                return base.resolve(part.substring(lt + 1, gt));
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ transport

    private interface RequestFactory {
        HttpRequest.Builder build() throws IOException;
    }

    private HttpRequest.Builder request(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(options.timeout()).header("User-Agent", "cairn");
    }

    /** Sends with auth and retries (for idempotent requests and those whose body can be re-sent). */
    private HttpResponse<InputStream> send(RegistryReference r, String actions, RequestFactory f) throws IOException {
        int attempt = 0;
        while (true) {
            HttpResponse<InputStream> resp;
            try {
                resp = sendOnce(r, actions, f);
            } catch (RegistryException e) {
                if (e.status() != -1 || ++attempt >= options.maxAttempts()) {
                    throw e;
                }
                countRetry();
                sleep(attempt, null);
                continue;
            }
            if ((resp.statusCode() >= 500 || resp.statusCode() == 429) && ++attempt < options.maxAttempts()) {
                drain(resp);
                countRetry();
                sleep(attempt, resp);
                continue;
            }
            return resp;
        }
    }

    /** One request, re-sent only to answer an auth challenge. */
    private HttpResponse<InputStream> sendOnce(RegistryReference r, String actions, RequestFactory f) throws IOException {
        String key = r.registry() + " " + r.repository();
        for (int round = 0; ; round++) {
            HttpRequest.Builder b = f.build();
            String a = auth.get(key);
            if (a != null) {
                b.header("Authorization", a);
            }
            HttpResponse<InputStream> resp;
            try {
                resp = exchange(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (ConnectException e) {
                throw new RegistryException("cannot connect to " + r.registry() + ": " + e.getMessage(), e);
            } catch (IOException | java.io.UncheckedIOException e) {
                for (Throwable c = e; c != null; c = c.getCause()) {
                    if (c instanceof dev.cairn.io.FormatException fe) {
                        throw fe; // our own blob failed verification while being sent: not a network problem
                    }
                    if (c instanceof BlobReadException local) {
                        throw local.getCause(); // the local file, not the network: no retry
                    }
                    if (c instanceof javax.net.ssl.SSLHandshakeException h) {
                        throw new RegistryException(-2, "TLS", "TLS handshake with " + r.registry() + " failed: " + h.getMessage()
                                + " (trust its CA with --ca-file)");
                    }
                }
                throw new RegistryException(r.registry() + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
            if (resp.statusCode() != 401 || round >= 2) {
                return resp;
            }
            drain(resp);
            String challenge = resp.headers().firstValue("WWW-Authenticate").orElse(null);
            if (challenge == null) {
                return resp;
            }
            String header = authenticate(r, actions, challenge);
            if (header == null || header.equals(a) && round > 0) {
                return resp;
            }
            auth.put(key, header);
        }
    }

    /** Answers a challenge: Basic with the credentials, or a Bearer token from the realm. */
    private String authenticate(RegistryReference r, String actions, String challenge) throws IOException {
        Optional<Credentials> creds = options.credentials().apply(r.registry());
        String scheme = challenge.trim().split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
        if (scheme.equals("basic")) {
            return creds.map(Credentials::basicHeader).orElseThrow(() -> new RegistryException(401, "UNAUTHORIZED",
                    r.registry() + " requires a login (use --username/--password-stdin or a docker config.json)"));
        }
        if (!scheme.equals("bearer")) {
            throw new RegistryException(401, "UNAUTHORIZED", r.registry() + ": unsupported auth scheme '" + scheme + "'");
        }
        Map<String, String> p = challengeParams(challenge.trim().substring(6));
        String realm = p.get("realm");
        if (realm == null) {
            throw new RegistryException(401, "UNAUTHORIZED", r.registry() + ": Bearer challenge without realm");
        }
        StringBuilder q = new StringBuilder();
        if (p.containsKey("service")) {
            q.append("service=").append(enc(p.get("service")));
        }
        List<String> scopes = new ArrayList<>();
        scopes.add("repository:" + r.repository() + ":" + actions);
        if (p.containsKey("scope")) {
            for (String s : p.get("scope").split(" ")) {
                if (!s.isBlank() && !scopes.contains(s)) {
                    scopes.add(s);
                }
            }
        }
        for (String s : scopes) {
            q.append(q.length() == 0 ? "" : "&").append("scope=").append(enc(s));
        }
        URI realmUri = URI.create(realm);
        checkScheme(realmUri.getHost(), realmUri.getScheme());
        URI tokenUri = withQuery(realmUri, q.toString());
        HttpRequest.Builder b = request(tokenUri).GET();
        creds.ifPresent(c -> b.header("Authorization", c.basicHeader()));
        HttpResponse<byte[]> resp;
        try {
            resp = exchange(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (IOException e) {
            throw new RegistryException("token request to " + realmUri.getHost() + " failed: " + e.getMessage(), e);
        }
        if (resp.statusCode() != 200) {
            throw new RegistryException(resp.statusCode(), "UNAUTHORIZED", "token server " + realmUri.getHost() + " answered "
                    + resp.statusCode() + (creds.isEmpty() ? " (no credentials were given)" : ""));
        }
        JsonNode n = OciJson.tree(resp.body(), "token response");
        String token = n.path("token").asText(n.path("access_token").asText(""));
        if (token.isEmpty()) {
            throw new RegistryException(resp.statusCode(), "UNAUTHORIZED", "token server " + realmUri.getHost() + " sent no token");
        }
        return "Bearer " + token;
    }

    static Map<String, String> challengeParams(String s) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        int i = 0;
        while (i < s.length()) {
            while (i < s.length() && (s.charAt(i) == ',' || Character.isWhitespace(s.charAt(i)))) {
                i++;
            }
            int eq = s.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String k = s.substring(i, eq).trim().toLowerCase(Locale.ROOT);
            i = eq + 1;
            StringBuilder v = new StringBuilder();
            if (i < s.length() && s.charAt(i) == '"') {
                i++;
                while (i < s.length() && s.charAt(i) != '"') {
                    if (s.charAt(i) == '\\' && i + 1 < s.length()) {
                        i++;
                    }
                    v.append(s.charAt(i++));
                }
                i++;
            } else {
                while (i < s.length() && s.charAt(i) != ',') {
                    v.append(s.charAt(i++));
                }
            }
            m.put(k, v.toString().trim());
        }
        return m;
    }

    /**
     * https, except plain HTTP for hosts listed as insecure and for loopback addresses — unless a
     * custom trust ({@code --ca-file}) is configured, which means the loopback registry speaks TLS.
     */
    URI url(RegistryReference r, String path) throws RegistryException {
        String host = r.registry();
        boolean plain = options.insecureHosts().contains(host) || (isLoopback(host) && options.sslContext() == null);
        return URI.create((plain ? "http" : "https") + "://" + host + "/v2/" + r.repository() + path);
    }

    private void checkScheme(String host, String scheme) throws RegistryException {
        if ("http".equals(scheme) && !isLoopback(host) && !options.insecureHosts().contains(host)) {
            throw new RegistryException(-2, null, "refusing plain HTTP to " + host + " (use --insecure-registry " + host + ")");
        }
    }

    static boolean isLoopback(String hostPort) {
        String h = hostPort;
        if (h.startsWith("[")) {
            h = h.substring(1, h.indexOf(']'));
        } else if (h.indexOf(':') >= 0) {
            h = h.substring(0, h.lastIndexOf(':'));
        }
        if (h.equals("localhost")) {
            return true;
        }
        if (!h.matches("[0-9.]+|[0-9A-Fa-f:]+")) {
            return false; // never resolve names here: only literal loopback addresses count
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private URI location(RegistryReference r, HttpResponse<?> resp) throws IOException {
        String loc = resp.headers().firstValue("Location").orElseThrow(() ->
                new RegistryException(resp.statusCode(), null, "upload response without Location"));
        URI u = resp.request().uri().resolve(loc);
        checkScheme(u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : ""), u.getScheme());
        return u;
    }

    static URI withQuery(URI u, String q) {
        String s = u.toString();
        return URI.create(s + (u.getRawQuery() == null ? "?" : "&") + q);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void drain(HttpResponse<InputStream> resp) throws IOException {
        try (InputStream in = resp.body()) {
            in.skip(Long.MAX_VALUE);
        } catch (IOException ignored) {
            // the body is not needed; the connection is simply not reused
        }
    }

    private static RegistryException error(HttpResponse<InputStream> resp, String what) {
        String code = null;
        String message = "";
        try (InputStream in = resp.body()) {
            byte[] b = in.readNBytes(64 * 1024);
            JsonNode e = OciJson.tree(b, "error").path("errors").path(0);
            code = e.path("code").asText(null);
            message = e.path("message").asText("");
        } catch (IOException | RuntimeException ignored) {
            // not a distribution-spec error body
        }
        return new RegistryException(resp.statusCode(), code, what + ": HTTP " + resp.statusCode()
                + (code == null ? "" : " " + code) + (message.isEmpty() ? "" : ": " + message));
    }

    synchronized void countRetry() {
        retries++;
    }

    void sleep(int attempt, HttpResponse<?> resp) throws IOException {
        long ms = options.initialBackoff().toMillis() << Math.min(attempt - 1, 10);
        if (resp != null) {
            Optional<String> ra = resp.headers().firstValue("Retry-After");
            if (ra.isPresent() && ra.get().matches("[0-9]{1,4}")) {
                ms = Math.max(ms, Long.parseLong(ra.get()) * 1000);
            }
        }
        try {
            Thread.sleep(Math.min(ms, 30_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }
}
