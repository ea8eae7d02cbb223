package dev.cairn.maven;

import static dev.cairn.maven.BuildMojoGoldenTest.set;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.SignatureSet;
import dev.cairn.pipeline.SigningRequest;
import dev.cairn.pipeline.SigningStation;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.testing.ExampleSpec;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn:build} with {@code unsigned}, then {@code inject} round after round (the station
 * being the pipeline's {@link SigningStation} with the example's PEM keys): the finished set has the
 * manifest the command line's golden file pins, byte for byte.
 */
class BuildMojoSplitTest {
    @TempDir
    Path dir;

    BuildMojo mojo(Path spec, Path out) throws ReflectiveOperationException {
        BuildMojo mojo = new BuildMojo(null);
        set(mojo, "spec", spec.toFile());
        set(mojo, "outputDirectory", out.toFile());
        set(mojo, "cacheFrom", new ArrayList<String>());
        set(mojo, "cacheTo", new ArrayList<String>());
        return mojo;
    }

    @Test
    void unsignedThenInjectedGivesTheGoldenSet() throws Exception {
        Path example = Files.createDirectories(dir.resolve("example"));
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), example);
        Path out = dir.resolve("target/cairn");
        BuildMojo first = mojo(spec, out);
        set(first, "unsigned", true);
        first.execute();
        Path req = out.resolve(SigningRequest.FILE);
        assertThat(req).exists();
        assertThat(out.resolve("manifest.json.p7s")).doesNotExist();
        KeyMaterial db = KeyLoader.fromFiles(example.resolve("keys/db.key"), example.resolve("keys/db.crt"), null);
        KeyMaterial signer = KeyLoader.fromFiles(example.resolve("keys/signer.key"), example.resolve("keys/signer.crt"), null);
        int rounds = 0;
        while (Files.exists(req)) {
            assertThat(++rounds).isLessThanOrEqualTo(4);
            byte[] bytes = Files.readAllBytes(req);
            SigningRequest r = SigningRequest.decode(bytes, req);
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            List<File> answers = new ArrayList<>();
            for (String role : r.roles()) {
                SignatureSet s = SigningStation.sign(r, sha, role, role.equals("manifest") ? signer : db);
                answers.add(Files.write(dir.resolve("r" + rounds + "-" + role + ".json"), s.encode()).toFile());
            }
            BuildMojo next = mojo(spec, out);
            set(next, "inject", answers);
            next.execute();
        }
        assertThat(rounds).isEqualTo(4);
        Path golden = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("../cli/src/test/resources/golden/example-set/manifest.json").normalize();
        assertThat(Files.readAllBytes(out.resolve("manifest.json"))).isEqualTo(Files.readAllBytes(golden));
        for (String line : Files.readAllLines(golden.resolveSibling("digests.txt"))) {
            String[] f = line.split("  ", 2);
            byte[] d = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(out.resolve(f[1])));
            assertThat(HexFormat.of().formatHex(d)).as(f[1]).isEqualTo(f[0]);
        }
        assertThat(out.resolve(".cairn-signatures.json")).doesNotExist();
    }
}
