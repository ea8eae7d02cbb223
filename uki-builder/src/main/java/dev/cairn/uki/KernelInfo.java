package dev.cairn.uki;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Facts read from an x86 bzImage's setup header (Documentation/arch/x86/boot.rst): the
 * {@code HdrS} magic at 0x202 and {@code kernel_version} (u16 at 0x20E, pointing 0x200 below the
 * version string), from which {@code uname -r} is taken as ukify does.
 */
public final class KernelInfo {
    private static final Pattern VERSION = Pattern.compile("^([a-z0-9._+-]+) \\([^ )]+\\) ");

    private KernelInfo() {
    }

    /** The kernel release ({@code uname -r}) if {@code head} (the file's first 64 KiB) is a bzImage that says it. */
    public static Optional<String> uname(byte[] head) {
        if (head.length < 0x210 || head[0x202] != 'H' || head[0x203] != 'd' || head[0x204] != 'r' || head[0x205] != 'S') {
            return Optional.empty();
        }
        int off = 0x200 + ((head[0x20E] & 0xFF) | (head[0x20F] & 0xFF) << 8);
        if (off >= head.length) {
            return Optional.empty();
        }
        int end = off;
        while (end < head.length && end - off < 256 && head[end] != 0) {
            end++;
        }
        Matcher m = VERSION.matcher(new String(head, off, end - off, StandardCharsets.ISO_8859_1));
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
