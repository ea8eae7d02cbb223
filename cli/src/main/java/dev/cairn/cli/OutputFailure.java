package dev.cairn.cli;

import java.io.IOException;

/** Wraps an I/O failure that happened while writing an output (exit 6, not 3). */
public final class OutputFailure extends CairnException {
    private static final long serialVersionUID = 1L;

    public OutputFailure(String what, IOException cause) {
        super(ExitCode.IO, what + ": " + ExceptionMapper.describe(cause), cause);
    }
}
