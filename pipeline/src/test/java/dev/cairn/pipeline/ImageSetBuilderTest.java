package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.signing.KeyLoader;
import dev.cairn.testing.ExampleSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API gives what {@code cairn build} gives: the bundled example (host-independent, see
 * {@link ExampleSpec}) built through {@link ImageSetBuilder} has the manifest bytes pinned by the
 * command line's golden file; a spec held in memory builds the same set; builds of one output
 * directory from two threads take turns; the listener sees every step.
 */
class ImageSetBuilderTest {
    @TempDir
    static Path dir;
    static Path spec;

    @BeforeAll
    static void example() throws Exception {
        spec = ExampleSpec.write(ExampleSpec.examplesDir(), Files.createDirectories(dir.resolve("example")));
    }

    static byte[] cliGolden() throws Exception {
        return Files.readAllBytes(Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("../cli/src/test/resources/golden/example-set/manifest.json").normalize());
    }

    static final class Recorder implements BuildListener {
        final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public void stepStarted(int index, int total, String step, String label) {
            events.add("start " + index + "/" + total + " " + step);
        }

        @Override
        public void stepFinished(StepReport report, Duration took) {
            events.add("done " + report.step() + " " + report.cache().label());
        }

        @Override
        public void warning(String message) {
            events.add("warning " + message);
        }

        @Override
        public void info(String message) {
            events.add("info " + message);
        }
    }

    @Test
    void theApiBuildsTheSameBytesAsTheCommandLineAndVerifies() throws Exception {
        Recorder r = new Recorder();
        BuildResult result = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), dir.resolve("api")).listener(r).build());
        assertThat(Files.readAllBytes(result.out().resolve(BuildManifest.FILE))).isEqualTo(cliGolden());
        assertThat(r.events).contains("start 1/9 rootfs", "done rootfs miss", "done roothash not-cacheable", "start 9/9 check",
                "done check not-cacheable");
        assertThat(result.steps()).extracting(StepReport::step)
                .containsExactly("rootfs", "roothash", "ipe", "initramfs", "uki", "oci", "disk", "manifest", "check");
        assertThat(result.devKeys()).isNull();
        assertThat(result.uki()).exists().hasFileName("cairn-example.efi");

        BuildManifest m = BuildManifest.read(result.out());
        assertThat(m.name()).isEqualTo("cairn-example");
        assertThat(m.sourceDateEpoch()).isEqualTo(1700000000L);
        assertThat(m.rootHash()).matches("[0-9a-f]{64}");
        assertThat(m.artifact("rootfs")).isPresent();

        Path keys = spec.getParent().resolve("keys");
        ImageSetVerifier.Report v = ImageSetVerifier.verify(result.out(), KeyLoader.loadCertificates(keys.resolve("ca.crt")).get(0),
                KeyLoader.loadCertificates(keys.resolve("db.crt")).get(0), Instant.now());
        assertThat(v.ok()).as(v.firstFailure()).isTrue();

        BuildResult again = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), dir.resolve("api")).build());
        assertThat(again.cachedSteps()).containsExactly("rootfs", "initramfs", "uki");
    }

    @Test
    void aSpecHeldInMemoryBuildsTheSameSet() throws Exception {
        String yaml = Files.readString(spec);
        BuildSpec inMemory = BuildSpec.parse(spec, yaml);
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(inMemory, dir.resolve("memory")).build());
        assertThat(Files.readAllBytes(r.out().resolve(BuildManifest.FILE))).isEqualTo(cliGolden());

        assertThatThrownBy(() -> BuildSpec.parse(spec.resolveSibling("generated.yaml"), yaml.replace("  version: 1.0.0", "  version: 1.0.0\n  nmae: x")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("generated.yaml:5:")
                .satisfies(e -> assertThat(((SpecException) e).line()).isEqualTo(5))
                .satisfies(e -> assertThat(((SpecException) e).kind()).isEqualTo(PipelineException.Kind.BAD_INPUT));
    }

    @Test
    void anOutputDirectoryInsideTheRootTreeIsLeftOutOfTheImageAndTheKey() throws Exception {
        Path tree = spec.getParent().resolve("rootfs");
        Path out = tree.resolve("out-inside");
        BuildResult first = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), out).build());
        assertThat(Files.readAllBytes(first.out().resolve(BuildManifest.FILE))).isEqualTo(cliGolden());
        BuildResult second = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), out).build());
        assertThat(second.cachedSteps()).containsExactly("rootfs", "initramfs", "uki");
        dev.cairn.io.FileTrees.delete(out);
    }

    @Test
    void buildsOfOneDirectoryFromTwoThreadsTakeTurns() throws Exception {
        Path out = dir.resolve("threads");
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        CountDownLatch started = new CountDownLatch(1);
        BuildListener holder = new BuildListener() {
            @Override
            public void stepStarted(int index, int total, String step, String label) {
                first.stepStarted(index, total, step, label);
                if (index == 1) {
                    started.countDown();
                    try {
                        Thread.sleep(1500); // hold OUT while the others try
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<BuildResult> a = pool.submit(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), out).listener(holder)
                    .build()));
            assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
            // the same directory through a symbolic link is the same lock
            Path link = Files.createSymbolicLink(dir.resolve("threads-link"), out);
            assertThatThrownBy(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), link).waitForLock(false).build()))
                    .isInstanceOf(PipelineException.class).hasMessageContaining("locked by another build in this process")
                    .satisfies(e -> assertThat(((PipelineException) e).kind()).isEqualTo(PipelineException.Kind.IO));
            Future<BuildResult> b = pool.submit(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec), out).listener(second)
                    .build()));
            assertThat(a.get(2, TimeUnit.MINUTES).manifest().rootHash()).isNotEmpty();
            BuildResult rb = b.get(2, TimeUnit.MINUTES);
            assertThat(second.events.get(0)).startsWith("info waiting for another build in this process");
            assertThat(rb.cachedSteps()).as("the second found the first's cache").contains("rootfs");
            assertThat(Files.readAllBytes(out.resolve(BuildManifest.FILE))).isEqualTo(cliGolden());
        } finally {
            pool.shutdownNow();
        }
    }
}
