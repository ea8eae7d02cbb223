package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.cairn.io.FormatException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Malformed JSON is reported by place and kind, never by quoting the input (which may be a secret). */
class OciJsonTest {
    private static final String SECRET = "ghp_SuperSecretToken123";

    /** Asserts that neither {@code t}'s message nor any cause's message or text contains {@code secret}. */
    static void assertNoSecret(Throwable t, String secret) {
        assertThat(t).isNotNull();
        for (Throwable c = t; c != null; c = c.getCause()) {
            assertThat(String.valueOf(c.getMessage())).as("message of %s", c.getClass().getName()).doesNotContain(secret);
            assertThat(c.toString()).doesNotContain(secret);
            for (Throwable s : c.getSuppressed()) {
                assertNoSecret(s, secret);
            }
        }
    }

    @Test
    void treeReportsLineAndColumnButNotTheBadToken() {
        Throwable t = catchThrowable(() -> OciJson.tree(("{\n  \"auth\": " + SECRET + "\n}").getBytes(StandardCharsets.UTF_8), "config.json"));
        assertThat(t).isInstanceOf(FormatException.class)
                .hasMessage("config.json: malformed JSON: syntax error (line 2, column 35)");
        assertNoSecret(t, SECRET);
        // a bare token, as a broken credential helper prints it
        Throwable bare = catchThrowable(() -> OciJson.tree((SECRET + "\n").getBytes(StandardCharsets.UTF_8), "docker-credential-fake output"));
        assertThat(bare).isInstanceOf(FormatException.class).hasMessageStartingWith("docker-credential-fake output: malformed JSON: syntax error (line 1");
        assertNoSecret(bare, SECRET);
        // inside a string that is never closed
        Throwable open = catchThrowable(() -> OciJson.tree(("{\"token\":\"" + SECRET).getBytes(StandardCharsets.UTF_8), "token response"));
        assertThat(open).isInstanceOf(FormatException.class).hasMessageStartingWith("token response: malformed JSON: unexpected end of input");
        assertNoSecret(open, SECRET);
    }

    @Test
    void decodeNamesTheFieldButNotItsValue() {
        Throwable t = catchThrowable(() -> OciJson.decode(("{\"mediaType\":\"x\",\"digest\":\"sha256:" + "a".repeat(64)
                + "\",\"size\":\"" + SECRET + "\"}").getBytes(StandardCharsets.UTF_8), Descriptor.class, "descriptor"));
        assertThat(t).isInstanceOf(FormatException.class).hasMessageContaining("descriptor: not a valid Descriptor: ")
                .hasMessageContaining("at size");
        assertNoSecret(t, SECRET);
    }
}
