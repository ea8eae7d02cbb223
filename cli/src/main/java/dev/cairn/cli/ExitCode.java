package dev.cairn.cli;

/** cairn's documented exit codes. */
public enum ExitCode {
    OK(0, "success"),
    VERIFICATION_FAILED(1, "verification failed"),
    USAGE(2, "usage error"),
    BAD_INPUT(3, "bad input (missing, unreadable or malformed file or value)"),
    SIGNING(4, "key or signing error"),
    REGISTRY(5, "registry or network error"),
    IO(6, "I/O error writing outputs");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }
}
