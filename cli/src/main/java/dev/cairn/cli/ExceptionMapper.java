package dev.cairn.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * The one place exceptions become exit codes and one-line messages. Stack traces only with
 * {@code --stacktrace}. Input problems (missing, unreadable, malformed files) are exit 3; failures
 * while writing outputs (reported as {@link OutputFailure}) are exit 6.
 */
public final class ExceptionMapper implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    private final boolean[] stacktrace;
    /** How many words of the command line a leaf dispatched alone did not see (Main.leaf): picocli counts from its first. */
    private final int argumentOffset;

    ExceptionMapper(boolean[] stacktrace) {
        this(stacktrace, 0);
    }

    ExceptionMapper(boolean[] stacktrace, int argumentOffset) {
        this.stacktrace = stacktrace;
        this.argumentOffset = argumentOffset;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
        Throwable t = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        ExitCode code = exitCode(t);
        PrintWriter err = cmd.getErr();
        err.println("cairn: " + message(t));
        if (stacktrace[0]) {
            t.printStackTrace(err);
        }
        err.flush();
        return code.code();
    }

    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("cairn: " + withFullIndex(ex));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        if (stacktrace[0]) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ExitCode.USAGE.code();
    }

    /** The message, with an argument index ("Unmatched argument at index 2") counted over the whole command line. */
    private String withFullIndex(CommandLine.ParameterException ex) {
        String m = String.valueOf(ex.getMessage());
        if (argumentOffset == 0 || !(ex instanceof CommandLine.UnmatchedArgumentException)) {
            return m;
        }
        for (String prefix : new String[] {"Unmatched argument at index ", "Unmatched arguments from index "}) {
            if (m.startsWith(prefix)) {
                int end = prefix.length();
                while (end < m.length() && Character.isDigit(m.charAt(end))) {
                    end++;
                }
                if (end > prefix.length() && end - prefix.length() < 9) {
                    int index = Integer.parseInt(m.substring(prefix.length(), end));
                    return prefix + (index + argumentOffset) + m.substring(end);
                }
            }
        }
        return m;
    }

    static ExitCode exitCode(Throwable t) {
        if (t instanceof CairnException c) {
            return c.exitCode();
        }
        if (t instanceof dev.cairn.pipeline.PipelineException p) {
            return switch (p.kind()) {
                case VERIFICATION_FAILED -> ExitCode.VERIFICATION_FAILED;
                case BAD_INPUT -> ExitCode.BAD_INPUT;
                case SIGNING -> ExitCode.SIGNING;
                case REGISTRY -> ExitCode.REGISTRY;
                case IO -> ExitCode.IO;
            };
        }
        if (t instanceof dev.cairn.signing.SigningException) {
            return ExitCode.SIGNING;
        }
        if (t instanceof IOException || t instanceof IllegalArgumentException) {
            return ExitCode.BAD_INPUT;
        }
        return ExitCode.IO;
    }

    static String message(Throwable t) {
        if (t instanceof IOException io) {
            return describe(io);
        }
        String m = t.getMessage();
        if (t instanceof CairnException || t instanceof dev.cairn.pipeline.PipelineException || t instanceof IllegalArgumentException) {
            return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
        }
        return "internal error: " + t.getClass().getSimpleName() + (m == null ? "" : ": " + m)
                + " (rerun with --stacktrace and report it)";
    }

    /** One line for an I/O problem, naming the file. */
    public static String describe(IOException e) {
        return dev.cairn.pipeline.PipelineException.describe(e);
    }
}
