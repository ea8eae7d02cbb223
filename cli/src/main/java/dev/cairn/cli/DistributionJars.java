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
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

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
 * <p>Also a copy of picocli whose classes carry stack map frames and class-file version 52 (Java 8)
 * instead of 49 (Java 5, which picocli targets). The JVM neither stores version-49 classes in an
 * AppCDS archive nor classes it had to verify with the old inference verifier, so every cairn
 * command parsed, verified and linked some 180 picocli classes from the jar: about 0.1 s of each
 * start (measured: {@code cairn verity format} on a 4 KiB file, 0.40 s before, 0.31 s after).
 * ASM computes the frames from the unchanged bytecode (it also rebuilds the constant pool); the
 * code, names and attributes are kept, and picocli's version-49 code (no jsr/ret, which ASM would
 * refuse here) is valid version-52 code.
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
            jars.add(jarOf(anchor));
        }
        for (Path jar : jars) {
            strip(jar, out.resolve(jar.getFileName()));
        }
        Path picocli = jarOf(PICOCLI_ANCHOR);
        withFrames(picocli, out.resolve(picocli.getFileName()));
    }

    private static final String PICOCLI_ANCHOR = "picocli.CommandLine";

    private static Path jarOf(String className) throws Exception {
        return Path.of(Class.forName(className, false, DistributionJars.class.getClassLoader())
                .getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** Copies {@code in} with every pre-Java-6 class given frames and version 52; entries keep order and times. */
    static void withFrames(Path in, Path out) throws IOException {
        ClassLoader loader = DistributionJars.class.getClassLoader();
        try (ZipInputStream zin = new ZipInputStream(Files.newInputStream(in));
             ZipOutputStream zout = new ZipOutputStream(Files.newOutputStream(out))) {
            for (ZipEntry e = zin.getNextEntry(); e != null; e = zin.getNextEntry()) {
                byte[] bytes = zin.readAllBytes();
                if (e.getName().endsWith(".class") && classVersion(bytes) < Opcodes.V1_6) {
                    bytes = withFrames(bytes, loader);
                }
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setTime(e.getTime());
                zout.putNextEntry(copy);
                zout.write(bytes);
                zout.closeEntry();
            }
        }
    }

    /** The major version of a class file, or -1 when it is none. */
    static int classVersion(byte[] c) {
        if (c.length < 8 || (c[0] & 0xff) != 0xca || (c[1] & 0xff) != 0xfe || (c[2] & 0xff) != 0xba || (c[3] & 0xff) != 0xbe) {
            return -1;
        }
        return ((c[6] & 0xff) << 8) | (c[7] & 0xff);
    }

    static byte[] withFrames(byte[] classFile, ClassLoader loader) {
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected ClassLoader getClassLoader() {
                return loader; // common superclasses of picocli's own types
            }
        };
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
                super.visit(Opcodes.V1_8, access, name, signature, superName, interfaces);
            }
        }, ClassReader.SKIP_FRAMES);
        return writer.toByteArray();
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
