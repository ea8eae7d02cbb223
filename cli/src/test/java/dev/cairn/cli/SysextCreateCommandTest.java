package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn sysext create}'s grammar {@code (--os-id ID --version-id V | --sysext-level L)}: why ID= is still required. */
class SysextCreateCommandTest {
    @TempDir
    Path dir;

    private Path tree() throws Exception {
        Path src = dir.resolve("src/usr/bin");
        Files.createDirectories(src);
        Files.writeString(src.resolve("hello"), "#!/bin/sh\necho hello\n");
        return dir.resolve("src");
    }

    @Test
    void levelWithoutOsIdIsRefusedWithTheReason() throws Exception {
        Path out = dir.resolve("out/hello.raw");
        MainTest.Run r = MainTest.run("sysext", "create", tree().toString(), out.toString(), "--name", "hello", "--sysext-level", "1",
                "--no-sign");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--sysext-level needs --os-id too").contains("compares SYSEXT_LEVEL= only once ID= equals")
                .contains("ID=_any matches every host and ignores the level");
        assertThat(out).doesNotExist();

        r = MainTest.run("sysext", "create", tree().toString(), out.toString(), "--confext", "--name", "hello", "--confext-level", "1",
                "--no-sign");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--confext-level needs --os-id too").contains("CONFEXT_LEVEL=");

        r = MainTest.run("sysext", "create", tree().toString(), out.toString(), "--name", "hello", "--version-id", "12", "--no-sign");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--os-id is required").contains("_any");
        assertThat(out).doesNotExist();
    }

    @Test
    void levelWithOsIdWritesBoth() throws Exception {
        Path out = dir.resolve("out/hello.raw");
        MainTest.Run r = MainTest.run("sysext", "create", tree().toString(), out.toString(), "--name", "hello", "--os-id", "debian",
                "--sysext-level", "1", "--no-sign", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("ID=debian\\nSYSEXT_LEVEL=1\\n");
        assertThat(out).exists();
    }
}
