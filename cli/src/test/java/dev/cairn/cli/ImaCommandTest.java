package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImaCommandTest {
    @TempDir
    Path dir;

    @Test
    void aBadFileIsNamedAndSkippedTheOthersAreSigned() throws Exception {
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("c.pem"));
        Path f1 = dir.resolve("f1");
        Files.writeString(f1, "first");
        Path f2 = dir.resolve("f2");
        Files.writeString(f2, "second");
        // a batch (issue 23): the bad file is named and gets no .sig, the good one is signed, exit 1 for a partial batch
        MainTest.Run bad = run("ima", "sign", "--sigfile", f1.toString(), dir.resolve("nosuchfile").toString(),
                "--key", key.toString(), "--cert", cert.toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("cairn: " + dir.resolve("nosuchfile") + ": no such file").contains("signed 1 of 2 files; 1 failed");
        assertThat(names()).containsExactlyInAnyOrder("k.pem", "c.pem", "f1", "f2", "f1.sig");

        MainTest.Run ok = run("ima", "sign", "--sigfile", f1.toString(), f2.toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(ok.code()).isZero();
        assertThat(ok.err()).isEqualTo("cairn: signed 2 of 2 files\n");
        assertThat(names()).containsExactlyInAnyOrder("k.pem", "c.pem", "f1", "f2", "f1.sig", "f2.sig");
        assertThat(Files.readAllBytes(dir.resolve("f1.sig"))[0]).isEqualTo((byte) 3); // EVM_IMA_XATTR_DIGSIG

        // one file, as before batches: no summary, the error as it always was
        MainTest.Run one = run("ima", "sign", "--sigfile", dir.resolve("nosuchfile").toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(one.code()).isEqualTo(3);
        assertThat(one.err()).isEqualTo("cairn: " + dir.resolve("nosuchfile") + ": no such file\n");
    }

    private Stream<String> names() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList().stream();
        }
    }
}
