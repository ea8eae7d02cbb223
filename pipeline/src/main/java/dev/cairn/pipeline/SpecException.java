package dev.cairn.pipeline;

import java.nio.file.Path;

/**
 * A problem in the build spec, reported as {@code FILE:LINE: key.path: message} ({@link Kind#BAD_INPUT},
 * or {@link Kind#SIGNING} for key sources).
 */
public final class SpecException extends PipelineException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    private final int line;

    SpecException(Path file, int line, String path, String message) {
        this(Kind.BAD_INPUT, file, line, path, message);
    }

    SpecException(Kind kind, Path file, int line, String path, String message) {
        super(kind, file + (line > 0 ? ":" + line : "") + ": " + (path == null || path.isEmpty() ? "" : path + ": ") + message);
        this.file = file;
        this.line = line;
    }

    /** The spec file (or the name an in-memory spec was given). */
    public Path file() {
        return file;
    }

    /** 1-based line in the spec, 0 when unknown. */
    public int line() {
        return line;
    }
}
