package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {

    @ParameterizedTest
    @CsvSource({
            "0, 0", "512, 512", "512b, 512", "16KiB, 16384", "16k, 16384", "16 KiB, 16384", "10MiB, 10485760",
            "1GiB, 1073741824", "1g, 1073741824", "10kb, 10000", "10MB, 10000000", "1GB, 1000000000", "' 8KiB ', 8192",
            "8589934591GiB, 9223372035781033984",
    })
    void parses(String text, long expected) {
        assertEquals(expected, Sizes.parse(text));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"k", "1.5MiB", "-1", "10 MiB/s", "1TiB", "10KIBs", "0x10"})
    void rejects(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
        assertEquals("'" + text + "' is not a size (examples: 512, 16KiB, 10MiB, 1GB)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999", "8589934592GiB", "9223372036854775807k"})
    void overflowIsAnIllegalArgumentNotAnArithmeticError(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
        assertEquals("'" + text + "' is too large a size", e.getMessage());
    }
}
