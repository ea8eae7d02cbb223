package dev.cairn.maven;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ExampleSpec;
import java.io.File;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn:build} gives the same bytes as {@code cairn build}: the host-independent bundled
 * example ({@link ExampleSpec}) built by the goal has the manifest the command line's golden file
 * pins (cli/src/test/resources/golden/example-set), and every artifact the manifest lists is there.
 */
class BuildMojoGoldenTest {
    @TempDir
    Path dir;

    static void set(Object o, String field, Object value) throws ReflectiveOperationException {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(field);
                f.setAccessible(true);
                f.set(o, value);
                return;
            } catch (NoSuchFieldException next) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(field);
    }

    @Test
    void theGoalBuildsTheBytesTheCommandLineBuilds() throws Exception {
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), Files.createDirectories(dir.resolve("example")));
        Path out = dir.resolve("target/cairn");
        BuildMojo mojo = new BuildMojo(null);
        set(mojo, "spec", spec.toFile());
        set(mojo, "outputDirectory", out.toFile());
        set(mojo, "cacheFrom", new ArrayList<String>());
        set(mojo, "cacheTo", new ArrayList<String>());
        set(mojo, "outputTimestamp", "2026-01-01T00:00:00Z"); // the spec names its own: the spec's wins
        mojo.execute();
        Path golden = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("../cli/src/test/resources/golden/example-set/manifest.json").normalize();
        assertThat(Files.readAllBytes(out.resolve("manifest.json"))).isEqualTo(Files.readAllBytes(golden));
        for (String line : Files.readAllLines(golden.resolveSibling("digests.txt"))) {
            String[] f = line.split("  ", 2);
            assertThat(out.resolve(f[1])).as(f[1]).exists();
        }
        assertThat(new File(out.toFile(), "dev-keys")).doesNotExist();
    }
}
