package dev.cairn.cli;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The one file a command writes, given either as its positional argument (as the tool it mirrors
 * takes it) or as {@code --output}/{@code -o}, as every other command takes it: exactly one of the
 * two. The command's positional parameter and option are setter methods that call {@link #set}.
 */
public final class OutputFile {
    private final String label;
    private Path path;

    /** {@code label}: the positional parameter's label, for messages (OUT, OUTPUT). */
    public OutputFile(String label) {
        this.label = label;
    }

    /** Records the output; a second one (positional and option, or the option twice) is a usage error. */
    public void set(CommandSpec spec, Path p) {
        if (p == null) {
            return;
        }
        if (path != null && !path.equals(p)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "the output is given twice (" + path + " and " + p + "): give " + label + " or --output, not both");
        }
        path = p;
    }

    /** The output, or a usage error naming both ways to give it. */
    public Path require(CommandSpec spec) {
        if (path == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "Missing required parameter: '" + label + "' (or --output FILE)");
        }
        return path;
    }
}
