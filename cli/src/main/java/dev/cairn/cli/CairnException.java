package dev.cairn.cli;

/** A failure a command reports with a specific exit code and a one-line message. */
public class CairnException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ExitCode exitCode;

    public CairnException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CairnException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }
}
