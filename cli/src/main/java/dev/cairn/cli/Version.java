package dev.cairn.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Properties;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import picocli.CommandLine;

/** The project version, filtered into a resource at build time. */
final class Version implements CommandLine.IVersionProvider {
    private static final String RESOURCE = "dev/cairn/cli/version.properties";

    static String get() {
        Properties p = new Properties();
        try {
            load(p);
        } catch (IOException e) {
            // fall through to "unknown"
        }
        return p.getProperty("version", "unknown");
    }

    /**
     * Reads the resource from the jar (or classes directory) this class came from. The class
     * loader would find it too, but it searches lib/ in order and opens every jar before
     * cairn-cli's on the way (Bouncy Castle's central directory alone costs tens of milliseconds
     * of {@code cairn --version}).
     */
    private static void load(Properties p) throws IOException {
        CodeSource cs = Version.class.getProtectionDomain().getCodeSource();
        Path where = null;
        try {
            where = cs == null || cs.getLocation() == null ? null : Path.of(cs.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            // not a file: ask the class loader below
        }
        if (where != null && Files.isRegularFile(where)) {
            try (ZipFile zip = new ZipFile(where.toFile())) {
                ZipEntry e = zip.getEntry(RESOURCE);
                if (e != null) {
                    try (InputStream in = zip.getInputStream(e)) {
                        p.load(in);
                        return;
                    }
                }
            }
        } else if (where != null && Files.isRegularFile(where.resolve(RESOURCE))) {
            try (InputStream in = Files.newInputStream(where.resolve(RESOURCE))) {
                p.load(in);
                return;
            }
        }
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {"cairn ".concat(get())}; // concat: no string-concatenation call site to link
    }
}
