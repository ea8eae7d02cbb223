package dev.cairn.cli.oci;

import dev.cairn.cli.Environment;
import dev.cairn.oci.Credentials;
import dev.cairn.oci.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Registry flags shared by push and pull: credentials, insecure hosts, chunking. */
public final class RegistryOptions {
    @Option(names = "--username", paramLabel = "USER",
            description = "Registry user (password from --password-stdin), sent only to the registry of the command's reference (copy: of DEST); other registries use the docker config.")
    String username;
    @Option(names = "--password-stdin", description = "Read the password (or token) from standard input.")
    boolean passwordStdin;
    @Option(names = "--authfile", paramLabel = "FILE",
            description = "Docker-format config.json: credHelpers/credsStore (docker-credential-* on $PATH), else auths (default: $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json, ~/.docker/config.json).")
    Path authfile;
    @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]",
            description = "Allow plain HTTP to this registry (repeatable; loopback addresses always may).")
    List<String> insecure = new ArrayList<>();
    @Option(names = "--ca-file", paramLabel = "PEM",
            description = "Also trust the CA certificates in this PEM file for registry TLS (besides the JDK's).")
    Path caFile;
    /** The credentials read from standard input, once. */
    private Credentials fromStdin;
    @Option(names = "--chunk-size", paramLabel = "BYTES", description = "Upload blobs larger than this in PATCH chunks of this size (default 128 MiB threshold and chunks).")
    Integer chunkSize;

    /** Checks the flags' combination (a usage error, before any work): {@link #client} would refuse it later. */
    public void validate() {
        if (passwordStdin && username == null) {
            throw new IllegalArgumentException("--password-stdin needs --username");
        }
        if (username != null && !passwordStdin) {
            throw new IllegalArgumentException("--username needs --password-stdin (passwords are never taken on the command line)");
        }
    }

    /** Explicit credentials for a second registry (a copy's SRC), given by that command's own options. */
    private String otherRegistry;
    private Credentials otherCredentials;

    /**
     * Makes {@link #client} send {@code credentials} to {@code registry} (and to no other host) too:
     * {@code oci copy}'s {@code --src-username}, for SRC while {@code --username} is DEST's.
     */
    public void alsoFor(String registry, Credentials credentials) {
        this.otherRegistry = registry;
        this.otherCredentials = credentials;
    }

    /** Whether {@code --password-stdin} will read standard input. */
    public boolean readsStdin() {
        return passwordStdin;
    }

    /**
     * A client whose credentials for {@code registry} (a reference's {@code HOST[:PORT]}) are the
     * ones of {@code --username}/{@code --password-stdin} when given; every other registry (a copy's
     * SRC when {@link #alsoFor} named it, a token realm's or a redirect's host) gets those of the
     * docker config and credential helpers, never the explicit ones.
     */
    public RegistryClient client(String registry, InputStream stdin) throws IOException {
        if (registry == null || registry.isEmpty()) {
            throw new IllegalArgumentException("the explicit credentials need the registry they are for");
        }
        validate();
        Credentials given = null;
        if (username != null) {
            if (fromStdin == null) {
                // read once: a build asks for a client per registry (push destination, step caches)
                String pw = new String(stdin.readNBytes(64 * 1024), StandardCharsets.UTF_8).strip();
                if (pw.isEmpty()) {
                    throw new IllegalArgumentException("--password-stdin: standard input is empty");
                }
                fromStdin = new Credentials(username, pw);
            }
            given = fromStdin;
        }
        Path config = authfile != null ? authfile : defaultAuthFile();
        Credentials fixed = given;
        String otherHost = otherRegistry;
        Credentials other = otherCredentials;
        if (other != null && fixed != null && otherHost.equalsIgnoreCase(registry)) {
            throw new IllegalArgumentException("SRC and DEST are on the same registry (" + registry
                    + "): give its credentials once (--username or --src-username)");
        }
        RegistryClient.Options o = RegistryClient.Options.defaults(host -> {
            if (fixed != null && host.equalsIgnoreCase(registry)) {
                return Optional.of(fixed);
            }
            if (other != null && host.equalsIgnoreCase(otherHost)) {
                return Optional.of(other);
            }
            try {
                return config == null ? Optional.empty() : Credentials.fromDockerConfig(config, host, RegistryOptions::onPath);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).withInsecureHosts(new HashSet<>(insecure));
        if (caFile != null) {
            o = o.withSslContext(sslContext(caFile));
        }
        if (chunkSize != null) {
            if (chunkSize < 1024) {
                throw new IllegalArgumentException("--chunk-size must be at least 1024, not " + chunkSize);
            }
            o = o.withChunking(chunkSize, chunkSize);
        }
        RegistryClient client = new RegistryClient(o);
        synchronized (OPEN) {
            OPEN.add(client);
        }
        return client;
    }

    /** Clients made by commands of this process that were not closed yet. */
    private static final List<RegistryClient> OPEN = new ArrayList<>();

    /**
     * Closes every client {@link #client} made; {@link dev.cairn.cli.Main#run} calls it when a
     * command ends, so no command has to thread the client through to a close of its own.
     */
    public static void closeClients() {
        List<RegistryClient> open;
        synchronized (OPEN) {
            open = new ArrayList<>(OPEN);
            OPEN.clear();
        }
        for (RegistryClient c : open) { // a loop, not a method reference: no call site to link on every run
            c.close();
        }
    }

    /** The JDK's trusted CAs plus the certificates of {@code pem}. */
    static javax.net.ssl.SSLContext sslContext(Path pem) throws IOException {
        try {
            java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            javax.net.ssl.TrustManagerFactory sys = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            sys.init((java.security.KeyStore) null);
            int n = 0;
            for (javax.net.ssl.TrustManager tm : sys.getTrustManagers()) {
                if (tm instanceof javax.net.ssl.X509TrustManager x) {
                    for (java.security.cert.X509Certificate c : x.getAcceptedIssuers()) {
                        ks.setCertificateEntry("system-" + n++, c);
                    }
                }
            }
            java.util.Collection<? extends java.security.cert.Certificate> certs;
            try (InputStream in = java.nio.file.Files.newInputStream(pem)) {
                certs = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (certs.isEmpty()) {
                throw new dev.cairn.io.FormatException("--ca-file", pem, "no PEM certificates in the file");
            }
            for (java.security.cert.Certificate c : certs) {
                ks.setCertificateEntry("ca-file-" + n++, c);
            }
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new dev.cairn.io.FormatException("--ca-file: " + pem + ": " + e.getMessage(), e);
        }
    }

    /** An executable named {@code name} on $PATH, or null. */
    static Path onPath(String name) {
        String path = Environment.get("PATH");
        if (path == null) {
            return null;
        }
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (!d.isEmpty()) {
                Path p = Path.of(d, name);
                if (java.nio.file.Files.isRegularFile(p) && java.nio.file.Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    private static Path defaultAuthFile() {
        String raf = Environment.get("REGISTRY_AUTH_FILE");
        if (raf != null && !raf.isEmpty()) {
            return Path.of(raf);
        }
        String dc = Environment.get("DOCKER_CONFIG");
        if (dc != null && !dc.isEmpty()) {
            return Path.of(dc, "config.json");
        }
        String home = System.getProperty("user.home");
        return home == null ? null : Path.of(home, ".docker", "config.json");
    }
}
