package dev.cairn.maven;

import dev.cairn.pipeline.BuildManifest;
import dev.cairn.pipeline.ImageSetVerifier;
import dev.cairn.signing.KeyLoader;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * {@code cairn:verify}: checks the image set in {@code outputDirectory} offline, link by link, as
 * {@code cairn verify OUT --ca CERT [--db-cert CERT]} does, and fails the build naming the first
 * broken link.
 */
@Mojo(name = "verify", defaultPhase = LifecyclePhase.VERIFY, threadSafe = true)
public class VerifyMojo extends AbstractCairnMojo {
    /**
     * The CA certificate the manifest signer must chain to (PEM or DER). Default: the development
     * CA {@code outputDirectory/dev-keys/ca.crt} when it exists; required otherwise.
     */
    @Parameter(property = "cairn.ca")
    private File ca;

    /**
     * The Secure Boot db certificate the UKI, root-hash and policy signatures must chain to. Default:
     * {@code outputDirectory/dev-keys/secureboot/db.crt} when it exists; else the certificates the
     * signed manifest pins are used.
     */
    @Parameter(property = "cairn.dbCert")
    private File dbCert;

    @Override
    String goal() {
        return "verify";
    }

    @Override
    void run() throws IOException, MojoFailureException {
        Path dir = outputDirectory.toPath().toAbsolutePath().normalize();
        if (!Files.isRegularFile(dir.resolve(BuildManifest.FILE))) {
            throw new MojoFailureException(dir + ": no image set (no " + BuildManifest.FILE + "); cairn:build writes one");
        }
        Path caFile = ca != null ? ca.toPath() : existing(dir.resolve("dev-keys").resolve("ca.crt"));
        if (caFile == null) {
            throw new MojoFailureException("cairn:verify needs <ca>: the CA certificate the manifest signer chains to ("
                    + dir.resolve("dev-keys").resolve("ca.crt") + " does not exist)");
        }
        Path dbFile = dbCert != null ? dbCert.toPath() : existing(dir.resolve("dev-keys").resolve("secureboot").resolve("db.crt"));
        getLog().info("Verifying " + dir + " against " + caFile + (dbFile == null ? "" : " and " + dbFile));
        ImageSetVerifier.Report r = ImageSetVerifier.verify(dir, certificate(caFile, "ca"),
                dbFile == null ? null : certificate(dbFile, "dbCert"), Instant.now());
        for (ImageSetVerifier.Check c : r.checks()) {
            String line = String.format(Locale.ROOT, "%-6s %-22s %s", c.ok() ? "ok" : "FAILED", c.link(), c.detail());
            if (c.ok()) {
                getLog().info(line);
            } else {
                getLog().error(line);
            }
        }
        if (!r.ok()) {
            throw new MojoFailureException("verification of " + dir + " failed: " + (r.firstFailure() != null ? r.firstFailure()
                    : "no link was checked"));
        }
        getLog().info("Image set " + dir + " verified: " + r.checks().size() + " links hold.");
    }

    private static Path existing(Path p) {
        return Files.isRegularFile(p) ? p : null;
    }

    private static X509Certificate certificate(Path file, String parameter) throws IOException, MojoFailureException {
        List<X509Certificate> certs = KeyLoader.loadCertificates(file);
        if (certs.isEmpty()) {
            throw new MojoFailureException(parameter + " " + file + ": no certificate in it");
        }
        return certs.get(0);
    }
}
