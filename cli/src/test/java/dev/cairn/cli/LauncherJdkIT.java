package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.opentest4j.AssertionFailedError;

/**
 * The packaged launcher (bin/cairn) under each supported JDK, as a user with that JDK as
 * JAVA_HOME runs it: nothing on stderr but the command's own output — on the first run, which
 * records the start-up cache, and on later runs, which use it — and the cache of that JDK's kind:
 * an AOT cache on JDK 25 (JDK 24+), an AppCDS archive on JDK 17. JDK 25 printed three
 * "[error][cds] Mismatched values for property jdk.module.addexports" lines at every start while
 * the launcher passed --add-exports on the command line, and a restricted-method warning when
 * zstd-jni loaded its library.
 *
 * <p>The JDKs: {@code CAIRN_IT_JDK17} (default /usr/lib/jvm/java-17-openjdk-amd64) and
 * {@code CAIRN_IT_JDK25} (default /usr/lib/jvm/temurin-25-jdk-amd64). A missing one skips the
 * test on a developer machine and fails it under {@code CI=true}.
 */
class LauncherJdkIT {
    static Path launcher;

    @BeforeAll
    static void find() throws IOException {
        launcher = LauncherIT.locate();
    }

    record Out(int code, String out, String err) {
    }

    static Path jdk(int feature) {
        String env = System.getenv("CAIRN_IT_JDK" + feature);
        Path home = Path.of(env != null && !env.isEmpty() ? env
                : feature == 17 ? "/usr/lib/jvm/java-17-openjdk-amd64" : "/usr/lib/jvm/temurin-" + feature + "-jdk-amd64");
        if (!Files.isExecutable(home.resolve("bin/java"))) {
            String msg = "JDK " + feature + " is missing at " + home + " (set CAIRN_IT_JDK" + feature + "; .ci/run checks for it)";
            if (ToolOracle.isCi()) {
                throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
            }
            Assumptions.abort(msg);
        }
        return home;
    }

    static Out cairn(Path javaHome, Path dir, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        Map<String, String> e = pb.environment();
        // only what this test sets: a caller's JVM options would print "Picked up ..." or change the cache
        List.of("JAVA_OPTS", "CAIRN_OPTS", "CAIRN_CDS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS").forEach(e::remove);
        e.put("JAVA_HOME", javaHome.toString());
        e.put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        e.putAll(env);
        Path o = Files.createTempFile(dir, "out", ".txt");
        Path r = Files.createTempFile(dir, "err", ".txt");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectOutput(o.toFile()).redirectError(r.toFile());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("cairn " + String.join(" ", args) + " did not finish within 5 minutes");
        }
        Out out = new Out(p.exitValue(), Files.readString(o, StandardCharsets.UTF_8), Files.readString(r, StandardCharsets.UTF_8));
        Files.delete(o);
        Files.delete(r);
        return out;
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static List<String> cacheFiles(Path dir) throws IOException {
        Path root = dir.resolve("cache").resolve("cairn");
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {17, 25})
    void noStrayOutputOnTheFirstRunAndLaterOnesAndTheCacheOfTheJdksKind(int feature) throws Exception {
        Path javaHome = jdk(feature);
        Path dir = Files.createTempDirectory("cairn-jdk" + feature + "-");
        try {
            String cacheFile = feature >= 24 ? "cairn.aot" : "cairn.jsa";

            Out first = cairn(javaHome, dir, Map.of(), "--version");
            assertThat(first.code()).as(first.err()).isZero();
            assertThat(first.out()).startsWith("cairn ");
            assertThat(first.err()).as("stderr of the first run (records the cache)").isEmpty();
            List<String> files = cacheFiles(dir);
            assertThat(files).as("the first run leaves the cache and nothing else").hasSize(1);
            assertThat(files.get(0)).endsWith("/" + cacheFile);
            Path cache = dir.resolve("cache").resolve("cairn").resolve(files.get(0));
            assertThat(cache).isNotEmptyFile();

            Out second = cairn(javaHome, dir, Map.of(), "--version");
            assertThat(second.code()).isZero();
            assertThat(second.out()).isEqualTo(first.out());
            assertThat(second.err()).as("stderr of a run with the cache").isEmpty();

            // the second run really starts from the cache: cairn's and picocli's classes come from it
            // (JDK 25 may still read a stray library class from its jar, xz's MatchLengthFinder say)
            Path log = dir.resolve("classes.log");
            Out logged = cairn(javaHome, dir, Map.of("CAIRN_OPTS", "-Xlog:class+load=info:file=" + log), "--version");
            assertThat(logged.err()).isEmpty();
            List<String> loads = Files.readAllLines(log);
            assertThat(loads).anyMatch(l -> l.contains(" dev.cairn.cli.Main source: shared objects file"));
            assertThat(loads).anyMatch(l -> l.contains(" picocli.CommandLine source: shared objects file"));
            assertThat(loads).filteredOn(l -> l.contains("source: file:") && (l.contains(" dev.cairn.") || l.contains(" picocli.")))
                    .as("cairn's classes read from the jars, not the cache").isEmpty();
            assertThat(loads).filteredOn(l -> l.contains("source: shared objects file")).hasSizeGreaterThan(loads.size() * 9 / 10);

            Out help = cairn(javaHome, dir, Map.of(), "--help");
            assertThat(help.code()).isZero();
            assertThat(help.out()).contains("Usage: cairn");
            assertThat(help.err()).isEmpty();

            Files.write(dir.resolve("small.img"), new byte[8192]);
            Out format = cairn(javaHome, dir, Map.of(), "verity", "format", "small.img", "small.hash");
            assertThat(format.code()).as(format.err()).isZero();
            assertThat(format.out()).contains("Root hash:");
            assertThat(format.err()).isEmpty();

            // zstd-jni and JNA (llistxattr, statx) load native libraries: JDK 24+ warns unless native access is
            // enabled; a JNA that cannot load would be a warning of cairn's own (the JDK's user.-only fallback)
            Files.createDirectories(dir.resolve("tree"));
            Files.writeString(dir.resolve("tree/file"), "cairn\n");
            Files.getFileAttributeView(dir.resolve("tree/file"), java.nio.file.attribute.UserDefinedFileAttributeView.class)
                    .write("cairn", java.nio.ByteBuffer.wrap(new byte[] {1, 2}));
            Out squashfs = cairn(javaHome, dir, Map.of(), "squashfs", "create", "tree", "tree.sqfs", "-comp", "zstd");
            assertThat(squashfs.code()).as(squashfs.err()).isZero();
            assertThat(squashfs.err()).isEmpty();
            Out listed = cairn(javaHome, dir, Map.of(), "squashfs", "ls", "--json", "tree.sqfs");
            assertThat(listed.out()).contains("\"user.cairn\" : \"0102\"");
            assertThat(listed.err()).isEmpty();

            // a cache this JVM cannot use (compressed oops off) means a slower start, not messages
            Out refused = cairn(javaHome, dir, Map.of("JAVA_OPTS", "-XX:-UseCompressedOops"), "--version");
            assertThat(refused.code()).isZero();
            assertThat(refused.out()).isEqualTo(first.out());
            assertThat(refused.err()).isEmpty();

            // the user's own class-sharing option wins (the JVM refuses -XX:AOTCache next to any -Xshare)
            Out off = cairn(javaHome, dir, Map.of("CAIRN_OPTS", "-Xshare:off"), "--version");
            assertThat(off.code()).as(off.err()).isZero();
            assertThat(off.out()).isEqualTo(first.out());
            assertThat(off.err()).isEmpty();

            assertThat(cacheFiles(dir)).containsExactly(files.get(0));
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * A batch signing command runs with C2 held to a few JDK methods (the launcher's MaxNodeLimit
     * compile commands): its --json output is nothing but JSON and its stderr is empty on each JDK,
     * C2 refuses the methods not listed, and still compiles the Montgomery square, the method through
     * which BigInteger reaches the CPU intrinsic that does an RSA signature's work.
     */
    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {17, 25})
    void aModuleBatchPrintsOnlyItsJsonAndKeepsC2ToTheListedMethods(int feature) throws Exception {
        Path javaHome = jdk(feature);
        Path dir = Files.createTempDirectory("cairn-jdk" + feature + "-");
        try {
            TestPki.KeyAndCert leaf = TestPki.get().rsaLeaf();
            leaf.writeKeyPem(dir.resolve("k.pem"));
            leaf.writeCertPem(dir.resolve("c.pem"));
            List<String> args = new ArrayList<>(List.of("sign", "module", "--key", "k.pem", "--cert", "c.pem"));
            java.util.Random random = new java.util.Random(feature);
            for (int i = 0; i < 30; i++) {
                byte[] ko = new byte[4096 + 512 * i];
                random.nextBytes(ko);
                System.arraycopy(new byte[] {0x7f, 'E', 'L', 'F'}, 0, ko, 0, 4);
                Files.write(dir.resolve("m" + i + ".ko"), ko);
                args.add("m" + i + ".ko");
            }
            List<String> json = new ArrayList<>(args);
            json.add(2, "--json");
            Out batch = cairn(javaHome, dir, Map.of(), json.subList(0, 10).toArray(String[]::new));
            assertThat(batch.code()).as(batch.err()).isZero();
            assertThat(batch.err()).as("stderr of a --json batch").isEmpty();
            JsonNode list = new ObjectMapper().readTree(batch.out());
            assertThat(list.size()).isEqualTo(3);
            list.forEach(n -> assertThat(n.get("signed").asBoolean()).as(n.toString()).isTrue());

            for (int i = 0; i < 3; i++) {
                Files.write(dir.resolve("m" + i + ".ko"), Arrays.copyOf(Files.readAllBytes(dir.resolve("m" + i + ".ko")), 4096 + 512 * i));
            }
            Out compiled = cairn(javaHome, dir, Map.of("CAIRN_OPTS", "-XX:+PrintCompilation"), args.toArray(String[]::new));
            assertThat(compiled.code()).as(compiled.err()).isZero();
            assertThat(compiled.err()).isEqualTo("cairn: signed 30 of 30 modules\n");
            List<String> lines = compiled.out().lines().toList();
            assertThat(lines).as("C2 gives up on the methods not listed").anyMatch(l -> l.contains("COMPILE SKIPPED: cannot parse method"));
            assertThat(lines).as("and compiles the listed ones")
                    .anyMatch(l -> l.matches(".*\\s4\\s+java\\.math\\.BigInteger::montgomerySquare .*") && !l.contains("SKIPPED"));
            assertThat(lines).filteredOn(l -> l.contains("SKIPPED") && (l.contains("::montgomerySquare ")
                    || l.contains("::montgomeryMultiply ") || l.contains("::implCompressMultiBlock "))).isEmpty();
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * Tokens are found by label through JNA on the PKCS#11 module (formerly the JDK's wrapper,
     * opened by an --add-exports option and then an Add-Exports manifest attribute): an unknown
     * label is named with the tokens there are, with no JVM option and no warning on either JDK.
     */
    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {17, 25})
    void pkcs11TokensAreFoundByLabel(int feature) throws Exception {
        Path javaHome = jdk(feature);
        Path module = ToolOracle.requireFile(Path.of("/usr/lib/softhsm/libsofthsm2.so"), "softhsm2");
        Path dir = Files.createTempDirectory("cairn-jdk" + feature + "-");
        try {
            Files.createDirectories(dir.resolve("tokens"));
            Files.writeString(dir.resolve("softhsm2.conf"), "directories.tokendir = " + dir.resolve("tokens") + "\nobjectstore.backend = file\n");
            Files.writeString(dir.resolve("content"), "cairn\n");
            Out r = cairn(javaHome, dir, Map.of("SOFTHSM2_CONF", dir.resolve("softhsm2.conf").toString(), "TOKEN_PIN", "1234"),
                    "sign", "cms", "--in", "content", "--out", "content.p7s", "--pkcs11-module", module.toString(),
                    "--pkcs11-token", "no-such-token", "--pkcs11-pin-env", "TOKEN_PIN");
            assertThat(r.code()).as(r.err()).isEqualTo(4);
            assertThat(r.err()).contains("no PKCS#11 token labelled 'no-such-token'").doesNotContain("add-exports")
                    .doesNotContain("[error]").doesNotContain("WARNING");
            assertThat(dir.resolve("content.p7s")).doesNotExist();
        } finally {
            deleteTree(dir);
        }
    }
}
