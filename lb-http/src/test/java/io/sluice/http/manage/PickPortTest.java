package io.sluice.http.manage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.List;
import java.util.PrimitiveIterator;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * CI once saw the kernel return one ephemeral port to two probes in a row, and {@code up} with two
 * replicas then failed with "already has backend". Replica ports are now distinct from each other and
 * from the pool's backends.
 */
class PickPortTest {

    @Test
    void aPortTheKernelRepeatsIsNotHandedOutTwice() {
        PrimitiveIterator.OfInt kernel = IntStream.of(43951, 43951, 43951, 43952).iterator();
        Set<Integer> taken = new HashSet<>(Set.of(8001));
        int first = InferenceSupervisor.pickPort(kernel::nextInt, taken);
        int second = InferenceSupervisor.pickPort(kernel::nextInt, taken);
        assertEquals(List.of(43951, 43952), List.of(first, second));
    }

    @Test
    void aPortOfAnExistingBackendIsSkipped() {
        PrimitiveIterator.OfInt kernel = IntStream.of(8001, 8002).iterator();
        assertEquals(8002, InferenceSupervisor.pickPort(kernel::nextInt, new HashSet<>(Set.of(8001))));
    }

    @Test
    void givesUpRatherThanLoopingForever() {
        assertThrows(IllegalStateException.class, () -> InferenceSupervisor.pickPort(() -> 8001, new HashSet<>(Set.of(8001))));
    }
}
