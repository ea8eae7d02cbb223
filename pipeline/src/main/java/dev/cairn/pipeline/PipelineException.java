package dev.cairn.pipeline;

import dev.cairn.io.FormatException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * A failure of the pipeline, typed by what went wrong ({@link Kind}); faces map the kind to their
 * own codes (the command line's exit codes, a Maven build failure). The message is one line, names
 * the file or spec line at fault, and never carries a secret.
 */
public class PipelineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure: each face maps these to its own codes. */
    public enum Kind {
        /** A check failed: an image set, a signature, a cache entry. */
        VERIFICATION_FAILED,
        /** Missing, unreadable or malformed input: the spec, a file it names. */
        BAD_INPUT,
        /** A key source is unavailable, or signing failed. */
        SIGNING,
        /** A registry could not be reached or refused a request. */
        REGISTRY,
        /** Outputs could not be written (or the output directory is held by another build). */
        IO
    }

    private final Kind kind;

    public PipelineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public PipelineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** One line for an I/O problem, naming the file. */
    public static String describe(IOException e) {
        if (e instanceof NoSuchFileException n) {
            return n.getFile() + ": no such file";
        }
        if (e instanceof AccessDeniedException a) {
            return a.getFile() + ": permission denied";
        }
        if (e instanceof FileSystemException f) {
            String reason = f.getReason();
            return f.getFile() + ": " + (reason == null ? f.getClass().getSimpleName() : reason);
        }
        if (e instanceof FileNotFoundException || e instanceof FormatException) {
            return e.getMessage();
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
