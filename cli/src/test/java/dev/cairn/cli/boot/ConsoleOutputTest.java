package dev.cairn.cli.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleOutputTest {
    @Test
    void charactersSplitBetweenWritesAreKeptWhole() {
        StringWriter s = new StringWriter();
        ConsoleOutput c = new ConsoleOutput(new PrintWriter(s));
        byte[] b = "h\u00e9llo \u2713 \ud83d\ude00\nlogin: ".getBytes(StandardCharsets.UTF_8);
        for (byte x : b) {
            c.write(x); // one byte at a time: every multi-byte character is split
        }
        assertThat(s.toString()).isEqualTo("h\u00e9llo \u2713 \ud83d\ude00\nlogin: ");
        c.endLine();
        assertThat(s.toString()).isEqualTo("h\u00e9llo \u2713 \ud83d\ude00\nlogin: " + System.lineSeparator());
        c.endLine();
        assertThat(s.toString()).as("a line that ended is not ended twice").endsWith(": " + System.lineSeparator());
    }

    @Test
    void malformedBytesBecomeReplacementCharacters() {
        StringWriter s = new StringWriter();
        ConsoleOutput c = new ConsoleOutput(new PrintWriter(s));
        c.write(new byte[] {'a', (byte) 0xff, 'b', '\n'}, 0, 4);
        assertThat(s.toString()).isEqualTo("a\ufffdb\n");
        c.write(new byte[] {(byte) 0xe2, (byte) 0x9c}, 0, 2); // a character cut off at the end
        c.endLine();
        assertThat(s.toString()).isEqualTo("a\ufffdb\n\ufffd" + System.lineSeparator());
    }
}
