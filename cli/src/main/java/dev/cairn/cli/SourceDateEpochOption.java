package dev.cairn.cli;

import java.time.Instant;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --source-date-epoch SECONDS}: the time stamped into artifacts, falling back to the
 * {@code SOURCE_DATE_EPOCH} environment variable (reproducible-builds.org). The only place cairn
 * reads that variable.
 */
public final class SourceDateEpochOption {
    @Option(names = "--source-date-epoch", paramLabel = "SECONDS",
            description = "Time for artifacts, in seconds since 1970 (default: $SOURCE_DATE_EPOCH).")
    String value;

    /** The configured time, or empty when neither the option nor the variable is set. */
    public Optional<Instant> instant(CommandLine cmd) {
        String v = value != null ? value : Environment.get("SOURCE_DATE_EPOCH");
        String origin = value != null ? "--source-date-epoch" : "SOURCE_DATE_EPOCH";
        if (v == null || v.isEmpty()) {
            return Optional.empty();
        }
        try {
            long s = Long.parseLong(v.trim());
            if (s < 0) {
                throw new NumberFormatException();
            }
            return Optional.of(Instant.ofEpochSecond(s));
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(cmd, origin + " must be a non-negative integer number of seconds, not '" + v + "'");
        }
    }
}
