package dev.cairn.maven;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class OutputTimestampTest {
    private static final long NEW_YEAR_2026 = 1767225600L;

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", "  ", "_", "a", "${project.build.outputTimestamp}"})
    void unsetOrSwitchedOffIsEmpty(String value) {
        assertThat(OutputTimestamp.epochSeconds(value)).isEmpty();
    }

    @Test
    void digitsAreSecondsSinceTheEpoch() {
        assertThat(OutputTimestamp.epochSeconds("1700000000")).contains(1700000000L);
        assertThat(OutputTimestamp.epochSeconds("0")).contains(0L);
        assertThat(OutputTimestamp.epochSeconds("5")).contains(5L);
        assertThat(OutputTimestamp.epochSeconds(" 1700000000\n")).contains(1700000000L);
    }

    @Test
    void isoInstantsWithAnyOffsetGiveTheSameSecond() {
        assertThat(OutputTimestamp.epochSeconds("2026-01-01T00:00:00Z")).contains(NEW_YEAR_2026);
        assertThat(OutputTimestamp.epochSeconds("2026-01-01T01:00:00+01:00")).contains(NEW_YEAR_2026);
        assertThat(OutputTimestamp.epochSeconds("2025-12-31T19:00:00-05:00")).contains(NEW_YEAR_2026);
    }

    @Test
    void fractionsOfASecondAreDropped() {
        assertThat(OutputTimestamp.epochSeconds("2026-01-01T00:00:00.999Z")).contains(NEW_YEAR_2026);
    }

    @ParameterizedTest
    @ValueSource(strings = {"yesterday", "2026-01-01", "2026-01-01T00:00:00", "-1", "1.5"})
    void anythingElseIsRefusedNamingTheValue(String value) {
        assertThatThrownBy(() -> OutputTimestamp.epochSeconds(value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("project.build.outputTimestamp '" + value + "': ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1969-12-31T23:59:59Z", "+10000-01-01T00:00:00Z", "253402300800", "99999999999999999999999"})
    void timesThePipelineCannotStampAreRefused(String value) {
        assertThatThrownBy(() -> OutputTimestamp.epochSeconds(value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(value);
    }

    @Test
    void theLatestStampableSecondIsAccepted() {
        assertThat(OutputTimestamp.epochSeconds("9999-12-31T23:59:59Z")).contains(OutputTimestamp.MAX);
    }

    @Test
    void theSpecsOwnSourceDateEpochWinsAndTheTimestampIsNotEvenParsed() {
        assertThat(OutputTimestamp.forRequest(1700000000L, "2026-01-01T00:00:00Z")).isNull();
        assertThat(OutputTimestamp.forRequest(1700000000L, "not a time")).isNull();
    }

    @Test
    void withoutOneInTheSpecTheTimestampIsTheBuildsEpoch() {
        assertThat(OutputTimestamp.forRequest(null, "2026-01-01T00:00:00Z")).isEqualTo(NEW_YEAR_2026);
        assertThat(OutputTimestamp.forRequest(null, null)).isNull();
        assertThatThrownBy(() -> OutputTimestamp.forRequest(null, "not a time")).isInstanceOf(IllegalArgumentException.class);
    }
}
