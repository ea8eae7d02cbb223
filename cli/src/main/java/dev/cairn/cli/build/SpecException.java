package dev.cairn.cli.build;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import java.nio.file.Path;

/** A problem in the build spec, reported as {@code FILE:LINE: key.path: message} (exit 3, or 4 for key sources). */
public final class SpecException extends CairnException {
    private static final long serialVersionUID = 1L;
    private final int line;

    SpecException(Path file, int line, String path, String message) {
        this(ExitCode.BAD_INPUT, file, line, path, message);
    }

    SpecException(ExitCode code, Path file, int line, String path, String message) {
        super(code, file + (line > 0 ? ":" + line : "") + ": " + (path == null || path.isEmpty() ? "" : path + ": ") + message);
        this.line = line;
    }

    /** 1-based line in the spec, 0 when unknown. */
    public int line() {
        return line;
    }
}
