package dev.cairn.pipeline.sysext;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** os-release(5) parsing and the symlink resolution /etc/os-release -> ../usr/lib/os-release needs. */
class OsReleaseTest {
    @Test
    void parsesQuotedAndPlainValuesSkippingComments() {
        var m = OsRelease.parse(("# comment\n\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME='Debian'\nVERSION_ID=\"12\"\n"
                + "ID=debian\nnot an assignment\nESC=\"a\\\"b\"\n").getBytes(StandardCharsets.UTF_8));
        assertThat(m).containsEntry("ID", "debian").containsEntry("VERSION_ID", "12").containsEntry("NAME", "Debian")
                .containsEntry("PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)").containsEntry("ESC", "a\"b").hasSize(5);
    }

    @Test
    void resolvesLinksInsideTheImageOnly() {
        assertThat(OsRelease.resolve("etc/os-release", "../usr/lib/os-release")).isEqualTo("usr/lib/os-release");
        assertThat(OsRelease.resolve("etc/os-release", "/usr/lib/os-release")).isEqualTo("usr/lib/os-release");
        assertThat(OsRelease.resolve("etc/os-release", "../../../x")).isNull();
    }
}
