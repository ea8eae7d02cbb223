package dev.cairn.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Build-time step for the distribution: copies of the Bouncy Castle jars without their JAR
 * signature (META-INF/*.SF, *.DSA, *.RSA, *.EC) and with only the main manifest section.
 *
 * <p>Why: the JVM verifies a signed jar when its first class loads, which for bcprov means
 * parsing an 800 KB signature file and hashing every class it loads — about 0.3 s of each signing
 * command (measured with class-load timestamps) — and signed jars are excluded from the AppCDS
 * archive. The signature only matters to JDKs that insist on signed JCE providers for ciphers;
 * cairn never uses Bouncy Castle as a cipher provider (encrypted keys are decrypted with the JDK's
 * own providers), only for ASN.1/CMS code and, for RSA-PSS, signatures. The classes are not
 * modified, relocated or merged: each jar keeps its name, entries, order and timestamps, so the
 * output is reproducible.
 *
 * <p>Usage: {@code DistributionJars <out-dir>}; the jars are found from the classes they contain.
 */
public final class DistributionJars {
    private static final String[] ANCHORS = {"org.bouncycastle.jce.provider.BouncyCastleProvider",
        "org.bouncycastle.cms.CMSSignedData", "org.bouncycastle.asn1.cms.ContentInfo"};

    private DistributionJars() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        Set<Path> jars = new LinkedHashSet<>();
        for (String anchor : ANCHORS) {
            jars.add(Path.of(Class.forName(anchor, false, DistributionJars.class.getClassLoader())
                    .getProtectionDomain().getCodeSource().getLocation().toURI()));
        }
        for (Path jar : jars) {
            strip(jar, out.resolve(jar.getFileName()));
        }
    }

    static boolean isSignatureFile(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        return n.startsWith("META-INF/") && n.indexOf('/', "META-INF/".length()) < 0
                && (n.endsWith(".SF") || n.endsWith(".DSA") || n.endsWith(".RSA") || n.endsWith(".EC"));
    }

    static void strip(Path in, Path out) throws IOException {
        try (ZipInputStream zin = new ZipInputStream(Files.newInputStream(in));
             ZipOutputStream zout = new ZipOutputStream(Files.newOutputStream(out))) {
            for (ZipEntry e = zin.getNextEntry(); e != null; e = zin.getNextEntry()) {
                if (isSignatureFile(e.getName())) {
                    continue;
                }
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setTime(e.getTime());
                zout.putNextEntry(copy);
                if (e.getName().equalsIgnoreCase("META-INF/MANIFEST.MF")) {
                    Manifest m = new Manifest(zin);
                    Manifest main = new Manifest();
                    main.getMainAttributes().putAll(m.getMainAttributes());
                    if (main.getMainAttributes().getValue(Attributes.Name.MANIFEST_VERSION) == null) {
                        main.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
                    }
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    main.write(b);
                    zout.write(b.toByteArray());
                } else {
                    copy(zin, zout);
                }
                zout.closeEntry();
            }
        }
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        in.transferTo(out);
    }
}
