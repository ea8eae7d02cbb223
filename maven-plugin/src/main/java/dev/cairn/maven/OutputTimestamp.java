package dev.cairn.maven;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Maven's {@code project.build.outputTimestamp} as seconds since the epoch, read the way Maven's
 * own archivers read it: digits are seconds since 1970; a value of fewer than two characters (a
 * POM's way to switch an inherited value off) or none at all means unset; anything else is an
 * ISO-8601 date-time with an offset ({@code 2026-01-01T00:00:00Z}, {@code 2026-01-01T01:00:00+01:00}),
 * truncated to whole seconds.
 */
final class OutputTimestamp {
    /** The latest time a build accepts (9999-12-31T23:59:59Z), as the pipeline checks it. */
    static final long MAX = 253402300799L;

    private OutputTimestamp() {
    }

    /**
     * The source date epoch a build request carries: null when the spec names its own
     * {@code sourceDateEpoch} (the spec wins, and {@code outputTimestamp} is not even parsed), else
     * {@code outputTimestamp}'s seconds, or null when that is unset too (the pipeline then uses 0).
     */
    static Long forRequest(Long specSourceDateEpoch, String outputTimestamp) {
        return specSourceDateEpoch != null ? null : epochSeconds(outputTimestamp).orElse(null);
    }

    /**
     * @param value the configured value, or null
     * @return the seconds since the epoch, or empty when unset
     * @throws IllegalArgumentException for a value that is neither, or one before 1970 or after 9999
     */
    static Optional<Long> epochSeconds(String value) {
        if (value == null) {
            return Optional.empty();
        }
        String v = value.strip();
        if (v.isEmpty() || v.startsWith("${")) {
            return Optional.empty(); // unset, or a property expression nothing defined
        }
        long seconds;
        if (v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            try {
                seconds = Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(message(value, "seconds since the epoch out of range"), e);
            }
        } else if (v.length() < 2) {
            return Optional.empty(); // one character: a POM switching an inherited value off
        } else {
            try {
                seconds = OffsetDateTime.parse(v).toEpochSecond();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(message(value, "expected seconds since the epoch or an ISO-8601 date-time with an "
                        + "offset, such as 2026-01-01T00:00:00Z"), e);
            }
        }
        return Optional.of(checked(value, seconds));
    }

    private static long checked(String value, long seconds) {
        if (seconds < 0 || seconds > MAX) {
            throw new IllegalArgumentException(message(value, "must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z"));
        }
        return seconds;
    }

    private static String message(String value, String why) {
        return "project.build.outputTimestamp '" + value + "': " + why;
    }
}
