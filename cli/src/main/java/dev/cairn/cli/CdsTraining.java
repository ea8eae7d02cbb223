package dev.cairn.cli;

import dev.cairn.signing.CmsOptions;
import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.CmsVerifier;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Pem;
import dev.cairn.signing.authenticode.AuthenticodeSigner;
import dev.cairn.signing.authenticode.AuthenticodeVerifier;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The launcher's AppCDS training run (first start of a new installation, property
 * {@code cairn.cds.training}): after {@code --help} has loaded every command class, walk the code
 * paths signing commands share — PEM key loading, CMS and Authenticode signing and verification —
 * on a throw-away in-memory key, then run the data commands on tiny inputs (SquashFS, dm-verity,
 * an OCI layer, a push to an in-process stand-in registry on the loopback interface), all in a
 * private temp directory, so their classes come from the archive instead of the jars and the JDK's
 * modules. Writes nothing outside that directory, which it deletes; any failure only means a
 * smaller archive.
 */
final class CdsTraining {
    private CdsTraining() {
    }

    static void run() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("cairn-cds-");
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(1024); // training only: the classes are those of any RSA size
            KeyPair kp = g.generateKeyPair();
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                    new X500Name("CN=cairn cds training"), BigInteger.ONE, Date.from(Instant.EPOCH), Date.from(Instant.EPOCH.plusSeconds(1)),
                    new X500Name("CN=cairn cds training"), kp.getPublic()).build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
            Path key = dir.resolve("k.pem");
            Path crt = dir.resolve("c.pem");
            Files.writeString(key, Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(crt, Pem.encode("CERTIFICATE", cert.getEncoded()));
            KeyMaterial km = KeyLoader.fromFiles(key, crt, null);
            byte[] data = "cairn".getBytes(StandardCharsets.US_ASCII);
            byte[] cms = CmsSigner.sign(data, km, new CmsOptions(true, true, true, "SHA-256"));
            CmsVerifier.verify(cms, data, List.of(cert), List.of(), Instant.EPOCH);
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(data);
            AuthenticodeVerifier.verify(AuthenticodeSigner.sign(digest, "SHA-256", km), digest, List.of(cert));
        } catch (Exception | LinkageError e) {
            // a smaller archive, nothing more
        }
        try {
            commands(dir);
        } catch (Exception | LinkageError e) {
            // a smaller archive, nothing more
        } finally {
            delete(dir);
        }
    }

    /**
     * The data commands on tiny inputs in {@code dir}: SquashFS, dm-verity, an OCI layer, and a
     * push to a stand-in registry on the loopback interface (an in-process server that accepts
     * every upload), which loads the HTTP client and the JSON mapping of manifests — about half a
     * second of every registry command when they come from the jars and the JDK's modules. (A
     * loopback registry is plain HTTP, so TLS classes are not trained.)
     */
    private static void commands(Path dir) throws IOException {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("file"), "cairn cds training\n");
        java.io.PrintWriter sink = new java.io.PrintWriter(java.io.OutputStream.nullOutputStream());
        Path img = null;
        for (String comp : new String[] {"xz", "zstd", "gzip"}) {
            img = dir.resolve("tree." + comp + ".sqfs");
            Main.run(sink, sink, "squashfs", "create", tree.toString(), img.toString(), "--source-date-epoch", "0", "--comp", comp);
        }
        Main.run(sink, sink, "verity", "format", img.toString(), dir.resolve("tree.hash").toString(), "--seed", "cds");
        Path stub = Path.of("/usr/lib/systemd/boot/efi/linuxx64.efi.stub"); // Debian's systemd-boot-efi
        if (Files.isRegularFile(stub)) {
            // uki build and inspect (the PE reader, UKI sections, PCR prediction), with the stub
            // itself standing in for the kernel: where no stub is installed, UKIs are rarely built
            Path uki = dir.resolve("training.efi");
            Main.run(sink, sink, "uki", "build", "--stub", stub.toString(), "--linux", stub.toString(),
                    "--initrd", tree.resolve("file").toString(), "--cmdline", "quiet", "--output", uki.toString());
            Main.run(sink, sink, "uki", "inspect", uki.toString());
        }
        String layout = dir.resolve("layout") + ":training";
        Main.run(sink, sink, "oci", "layer", "add", layout, tree.toString(), "--type", "tar+gzip");
        com.sun.net.httpserver.HttpServer registry = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        registry.createContext("/v2/", CdsTraining::acceptEverything);
        registry.start();
        try {
            Main.run(sink, sink, "oci", "push", layout, "127.0.0.1:" + registry.getAddress().getPort() + "/training/image:1");
        } finally {
            registry.stop(0);
        }
    }

    /** Just enough of the distribution API for a push: no blob exists, every upload succeeds. */
    private static void acceptEverything(com.sun.net.httpserver.HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            int status = 404;
            if (method.equals("GET") && path.equals("/v2/")) {
                status = 200;
            } else if (method.equals("POST") || method.equals("PATCH")) {
                status = 202;
                ex.getResponseHeaders().set("Location", path.endsWith("/uploads/") ? path + "training" : path);
                ex.getResponseHeaders().set("Range", "0-" + Math.max(0, body.length - 1));
            } else if (method.equals("PUT")) {
                status = 201;
                try {
                    ex.getResponseHeaders().set("Docker-Content-Digest", "sha256:"
                            + java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)));
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IOException(e);
                }
            }
            ex.sendResponseHeaders(status, -1);
        }
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp directory: best effort
        }
    }
}
