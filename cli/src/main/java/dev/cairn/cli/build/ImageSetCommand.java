package dev.cairn.cli.build;

import dev.cairn.cli.CairnException;
import dev.cairn.pipeline.ImageSetVerifier;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.signing.KeyLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code cairn verify OUT --ca CERT [--db-cert CERT]}: the text and JSON face of {@link ImageSetVerifier}. */
public final class ImageSetCommand {
    private ImageSetCommand() {
    }

    public static int verify(Path target, Path caFile, Path dbCertFile, boolean json, PrintWriter out) throws IOException {
        Path dir = Files.isDirectory(target) ? target : target.toAbsolutePath().getParent();
        if (!Files.isDirectory(target) && !Files.isRegularFile(target)) {
            throw new java.nio.file.NoSuchFileException(target.toString(), null, "no such directory or manifest");
        }
        X509Certificate ca = one(caFile, "--ca");
        X509Certificate db = dbCertFile == null ? null : one(dbCertFile, "--db-cert");
        ImageSetVerifier.Report r = ImageSetVerifier.verify(dir, ca, db, Instant.now());
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dir", dir.toString());
            m.put("verified", r.ok());
            List<Map<String, Object>> checks = new ArrayList<>();
            for (ImageSetVerifier.Check c : r.checks()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("link", c.link());
                x.put("ok", c.ok());
                x.put("detail", c.detail());
                checks.add(x);
            }
            m.put("checks", checks);
            m.put("firstFailure", r.firstFailure());
            JsonOption.print(out, m);
        } else {
            for (ImageSetVerifier.Check c : r.checks()) {
                out.printf("%-6s %-22s %s%n", c.ok() ? "ok" : "FAILED", c.link(), c.detail());
            }
        }
        out.flush();
        if (!r.ok()) {
            throw new CairnException(ExitCode.VERIFICATION_FAILED, "verification failed: " + r.firstFailure());
        }
        if (!json) {
            out.println("Image set " + dir + " verified: " + r.checks().size() + " links hold.");
        }
        return 0;
    }

    private static X509Certificate one(Path file, String option) throws IOException {
        List<X509Certificate> certs = KeyLoader.loadCertificates(file);
        if (certs.isEmpty()) {
            throw new IllegalArgumentException(option + " " + file + ": no certificate in it");
        }
        return certs.get(0);
    }
}
