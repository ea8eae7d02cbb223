package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What transfers tell a {@link TransferProgress}: each blob that moves, once, and all of its bytes
 * (pushed monolithically, in chunks, pulled, copied between layouts); nothing for blobs the
 * destination has. Against an in-memory stand-in registry on the loopback interface.
 */
class TransferProgressTest {
    @TempDir
    Path dir;
    HttpServer server;
    String host;
    final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    final Map<String, byte[]> manifests = new ConcurrentHashMap<>();
    final Map<String, ByteArrayOutputStream> uploads = new ConcurrentHashMap<>();
    final AtomicInteger sessions = new AtomicInteger();

    /** Records every call: "start VERB DIGEST", "bytes N". */
    static final class Recorder implements TransferProgress {
        final List<String> started = Collections.synchronizedList(new ArrayList<>());
        final Map<String, AtomicLong> bytes = new ConcurrentHashMap<>();
        volatile String current;

        @Override
        public void blobStarted(String verb, Descriptor blob) {
            started.add(verb + " " + blob.digest());
            current = verb + " " + blob.digest();
        }

        @Override
        public void advanced(long n) {
            bytes.computeIfAbsent(current, k -> new AtomicLong()).addAndGet(n);
        }
    }

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v2/", this::handle);
        server.start();
        host = "127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** Blob HEAD/GET, upload sessions (POST, PATCH, PUT ?digest=), manifest PUT/GET by tag or digest. */
    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String query = ex.getRequestURI().getRawQuery();
            String method = ex.getRequestMethod();
            byte[] body = ex.getRequestBody().readAllBytes();
            if (path.contains("/blobs/uploads/")) {
                if (method.equals("POST")) {
                    String loc = path + "s" + sessions.incrementAndGet();
                    uploads.put(loc, new ByteArrayOutputStream());
                    ex.getResponseHeaders().set("Location", loc);
                    ex.sendResponseHeaders(202, -1);
                    return;
                }
                ByteArrayOutputStream up = uploads.get(path);
                up.write(body);
                if (method.equals("PATCH")) {
                    ex.getResponseHeaders().set("Location", path);
                    ex.getResponseHeaders().set("Range", "0-" + (up.size() - 1));
                    ex.sendResponseHeaders(202, -1);
                    return;
                }
                String digest = java.net.URLDecoder.decode(query.substring("digest=".length()), StandardCharsets.UTF_8);
                blobs.put(digest, up.toByteArray());
                ex.sendResponseHeaders(201, -1);
                return;
            }
            if (path.contains("/blobs/")) {
                byte[] b = blobs.get(path.substring(path.lastIndexOf('/') + 1));
                if (b == null) {
                    ex.sendResponseHeaders(404, -1);
                } else if (method.equals("HEAD")) {
                    ex.getResponseHeaders().set("Content-Length", Long.toString(b.length));
                    ex.sendResponseHeaders(200, -1);
                } else {
                    ex.sendResponseHeaders(200, b.length);
                    ex.getResponseBody().write(b);
                }
                return;
            }
            String ref = path.substring(path.lastIndexOf('/') + 1);
            if (method.equals("PUT")) {
                manifests.put(ref, body);
                manifests.put(Digest.ofBytes(body).toString(), body);
                ex.getResponseHeaders().set("Docker-Content-Digest", Digest.ofBytes(body).toString());
                ex.sendResponseHeaders(201, -1);
                return;
            }
            byte[] m = manifests.get(ref);
            if (m == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Type", MediaTypes.MANIFEST);
            ex.getResponseHeaders().set("Docker-Content-Digest", Digest.ofBytes(m).toString());
            ex.sendResponseHeaders(200, method.equals("HEAD") ? -1 : m.length);
            if (!method.equals("HEAD")) {
                ex.getResponseBody().write(m);
            }
        }
    }

    /** A layout with one image: a config and a layer of {@code size} seeded bytes. */
    ImageBuilder.LayerResult image(Path layoutDir, int size) throws IOException {
        OciLayout l = OciLayout.openOrCreate(layoutDir);
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Descriptor layer = l.putBlob(data, MediaTypes.LAYER_TAR);
        return ImageBuilder.appendLayer(l, "img", layer, layer.digest(), "test",
                new ImageBuilder.ImageDefaults("linux", "amd64", Instant.ofEpochSecond(1700000000)));
    }

    RegistryClient client(long chunkThreshold) {
        return new RegistryClient(RegistryClient.Options.defaults(h -> Optional.empty()).withChunking(chunkThreshold, 256 << 10));
    }

    @Test
    void pushTellsOfEachBlobSentAndAllItsBytesMonolithicOrInChunks() throws Exception {
        for (long threshold : new long[] {Long.MAX_VALUE, 100_000}) { // one PUT each; PATCHes of 256 KiB for the layer
            blobs.clear();
            manifests.clear();
            ImageBuilder.LayerResult img = image(dir.resolve("layout-" + threshold), 3 << 20);
            Recorder r = new Recorder();
            try (RegistryClient c = client(threshold)) {
                RegistryReference dest = RegistryReference.parse(host + "/cairn/os:1");
                ImageTransfer.TransferResult t = ImageTransfer.push(OciLayout.open(dir.resolve("layout-" + threshold)), "img", c, dest, r);
                assertThat(t.blobsSent()).isEqualTo(2);
                assertThat(r.started).containsExactly("push " + img.config().digest(), "push " + img.layer().digest());
                assertThat(r.bytes.get("push " + img.layer().digest())).as("threshold %d", threshold).hasValue(3 << 20);
                assertThat(r.bytes.get("push " + img.config().digest())).hasValue(img.config().size());
                Recorder again = new Recorder();
                ImageTransfer.push(OciLayout.open(dir.resolve("layout-" + threshold)), "img", c, dest, again);
                assertThat(again.started).as("blobs the registry has are not reported").isEmpty();
                assertThat(again.bytes).isEmpty();
            }
        }
    }

    @Test
    void pullAndLayoutCopyTellOfEachBlobAndItsBytes() throws Exception {
        ImageBuilder.LayerResult img = image(dir.resolve("src"), 1 << 20);
        try (RegistryClient c = client(Long.MAX_VALUE)) {
            RegistryReference ref = RegistryReference.parse(host + "/cairn/os:1");
            ImageTransfer.push(OciLayout.open(dir.resolve("src")), "img", c, ref);
            Recorder pulled = new Recorder();
            ImageTransfer.pull(c, ref, dir.resolve("pulled"), "img", pulled);
            assertThat(pulled.started).containsExactly("pull " + img.config().digest(), "pull " + img.layer().digest());
            assertThat(pulled.bytes.get("pull " + img.layer().digest())).hasValue(1 << 20);
        }
        Recorder copied = new Recorder();
        ImageTransfer.copy(OciLayout.open(dir.resolve("src")), "img", OciLayout.openOrCreate(dir.resolve("copy")), "img", copied);
        assertThat(copied.started).containsExactly("copy " + img.config().digest(), "copy " + img.layer().digest());
        assertThat(copied.bytes.get("copy " + img.layer().digest())).hasValue(1 << 20);
        assertThat(Files.mismatch(dir.resolve("src").resolve("blobs/sha256/" + img.layer().digest().hex()),
                dir.resolve("copy").resolve("blobs/sha256/" + img.layer().digest().hex()))).isEqualTo(-1);
    }

    @Test
    void fileRegionsReportEverySliceHandedToTheClient() throws Exception {
        byte[] data = new byte[FileRegionPublisher.SLICE * 3 + 17];
        Path f = Files.write(dir.resolve("blob"), data);
        AtomicLong sent = new AtomicLong();
        AtomicInteger calls = new AtomicInteger();
        FileRegionPublisher p = new FileRegionPublisher(f, 5, data.length - 5, n -> {
            sent.addAndGet(n);
            calls.incrementAndGet();
        });
        java.util.concurrent.CompletableFuture<Long> done = new java.util.concurrent.CompletableFuture<>();
        p.subscribe(new java.util.concurrent.Flow.Subscriber<java.nio.ByteBuffer>() {
            long got;

            @Override
            public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(java.nio.ByteBuffer item) {
                got += item.remaining();
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                done.complete(got);
            }
        });
        assertThat(done.get()).isEqualTo(data.length - 5);
        assertThat(sent.get()).isEqualTo(data.length - 5);
        assertThat(calls.get()).isEqualTo(4);
    }
}
