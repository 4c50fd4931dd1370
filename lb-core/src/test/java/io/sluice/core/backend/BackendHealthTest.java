package io.sluice.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.backend.Backend.HealthResult;
import io.sluice.core.backend.Backend.State;
import org.junit.jupiter.api.Test;

/** Rise/fall hysteresis: one bad check does not eject, one good check does not readmit. */
class BackendHealthTest {
    static HealthResult ok() {
        return new HealthResult(true, "HTTP 200", 100, 0);
    }

    static HealthResult bad() {
        return new HealthResult(false, "HTTP 500", 100, 0);
    }

    @Test
    void fallThenRise() {
        Backend b = new Backend("a", "p", "127.0.0.1", 1, 1);
        b.recordHealth(bad(), 2, 3);
        b.recordHealth(bad(), 2, 3);
        b.recordHealth(ok(), 2, 3); // resets the failure run
        b.recordHealth(bad(), 2, 3);
        b.recordHealth(bad(), 2, 3);
        assertEquals(State.HEALTHY, b.state());
        b.recordHealth(bad(), 2, 3);
        assertEquals(State.UNHEALTHY, b.state());
        b.recordHealth(ok(), 2, 3);
        assertEquals(State.UNHEALTHY, b.state());
        b.recordHealth(ok(), 2, 3);
        assertEquals(State.HEALTHY, b.state());
    }

    @Test
    void passiveEjectionNeedsAFullRiseToReturn() {
        Backend b = new Backend("a", "p", "127.0.0.1", 1, 1);
        b.recordHealth(ok(), 2, 2);
        b.recordHealth(ok(), 2, 2);
        b.markDown("connect refused");
        assertEquals(State.UNHEALTHY, b.state());
        b.recordHealth(ok(), 2, 2);
        assertEquals(State.UNHEALTHY, b.state());
        b.recordHealth(ok(), 2, 2);
        assertEquals(State.HEALTHY, b.state());
    }
}
