package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
            "0, PT0S", "0s, PT0S", "250ms, PT0.25S", "5s, PT5S", "2m, PT2M", "1h, PT1H", "1d, PT24H",
            "1h30m, PT1H30M", "1m30s, PT1M30S", "1m1ms, PT1M0.001S", "15us, PT0.000015S",
            "5MS, PT0.005S", "' 5s ', PT5S", "1000ms, PT1S",
    })
    void parses(String text, Duration expected) {
        assertEquals(expected, Durations.parse(text));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"5", "s", "1.5s", "-1s", "5 s", "5sec", "1h 30m", "PT5S", "5s!", "ms5"})
    void rejects(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertEquals("'" + text + "' is not a duration (examples: 250ms, 5s, 2m, 1h30m)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999s", "9223372036854775807d", "9223372036854775807us"})
    void overflowIsAnIllegalArgumentNotAnArithmeticError(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertEquals("'" + text + "' is too long a duration", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"PT2H, 2h", "PT5M, 5m", "PT5S, 5s", "PT0.25S, 250ms", "PT0S, 0s", "PT1M30S, 90s", "PT1.5S, 1500ms"})
    void formatsShortestExactForm(Duration d, String expected) {
        assertEquals(expected, Durations.format(d));
        assertEquals(d, Durations.parse(expected));
    }
}
