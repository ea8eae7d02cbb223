package dev.cairn.cli.uki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** ukify's {@code TEXT|@FILE} values: inline text, or a file's bytes when prefixed with {@code @}. */
final class TextOrFile {
    private static final long MAX = 16L * 1024 * 1024;

    private TextOrFile() {
    }

    /** Inline text as given (UTF-8), or the file's bytes verbatim. */
    static byte[] read(String value, String option) throws IOException {
        if (value.startsWith("@")) {
            Path p = Path.of(value.substring(1));
            if (Files.size(p) > MAX) {
                throw new dev.cairn.io.FormatException(option, p, "file larger than 16 MiB");
            }
            return Files.readAllBytes(p);
        }
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** A kernel command line: inline text has its whitespace collapsed (as ukify does), a file is verbatim. */
    static byte[] cmdline(String value) throws IOException {
        if (value.startsWith("@")) {
            return read(value, "--cmdline");
        }
        return value.strip().replaceAll("\\s+", " ").getBytes(StandardCharsets.UTF_8);
    }
}
