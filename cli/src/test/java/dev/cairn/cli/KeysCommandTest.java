package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysCommandTest {
    @TempDir
    Path dir;

    @Test
    void secureBootCreateWritesEveryFileOrNone() throws Exception {
        Path keys = dir.resolve("keys");
        Files.createDirectories(keys.resolve("db.auth")); // a directory where a file must go: the last output fails
        String guid = "11111111-2222-3333-4444-555555555555";
        MainTest.Run bad = run("keys", "secureboot", "create", "--dir", keys.toString(), "--key-size", "2048",
                "--owner-guid", guid);
        assertThat(bad.code()).isEqualTo(6);
        assertThat(bad.err()).contains("db.auth");
        assertThat(names(keys)).containsExactly("db.auth");
        assertThat(keys.resolve("db.auth")).isEmptyDirectory();

        Files.delete(keys.resolve("db.auth"));
        MainTest.Run ok = run("keys", "secureboot", "create", "--dir", keys.toString(), "--key-size", "2048",
                "--owner-guid", guid);
        assertThat(ok.code()).isZero();
        assertThat(names(keys)).containsExactlyInAnyOrder("GUID",
                "PK.key", "PK.crt", "PK.esl", "PK.auth", "KEK.key", "KEK.crt", "KEK.esl", "KEK.auth",
                "db.key", "db.crt", "db.esl", "db.auth");
        assertThat(keys.resolve("GUID")).hasContent(guid);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.resolve("PK.key"))))
                .isEqualTo("rw-------");
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
