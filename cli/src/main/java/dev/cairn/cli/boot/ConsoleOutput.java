package dev.cairn.cli.boot;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The guest's serial console onto the command's output writer: bytes decoded as UTF-8 as they come (the bytes of a
 * character split between two writes wait for the next; malformed bytes become U+FFFD), flushed on every write so that
 * a prompt without a line end shows.
 */
final class ConsoleOutput extends OutputStream {
    private final PrintWriter out;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private byte[] carry = new byte[0];
    private boolean atLineStart = true;

    ConsoleOutput(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        byte[] all = Arrays.copyOf(carry, carry.length + len);
        System.arraycopy(b, off, all, carry.length, len);
        ByteBuffer in = ByteBuffer.wrap(all);
        CharBuffer chars = CharBuffer.allocate(all.length); // UTF-8 never decodes to more chars than bytes
        decoder.decode(in, chars, false);
        carry = Arrays.copyOfRange(all, in.position(), all.length);
        chars.flip();
        if (chars.hasRemaining()) {
            atLineStart = chars.get(chars.limit() - 1) == '\n';
            out.append(chars);
        }
        out.flush();
    }

    /** Ends the console's last line, if it did not end, so that cairn's own messages start on a line of their own. */
    synchronized void endLine() {
        if (carry.length > 0) {
            out.append('\uFFFD');
            carry = new byte[0];
            atLineStart = false;
        }
        if (!atLineStart) {
            out.println();
            atLineStart = true;
        }
        out.flush();
    }

    @Override
    public void flush() {
        out.flush();
    }
}
