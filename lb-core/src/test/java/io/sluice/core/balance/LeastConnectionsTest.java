package io.sluice.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LeastConnectionsTest {
    final LeastConnections lc = new LeastConnections();

    static Backend backend(String id, int weight) {
        return new Backend(id, "p", "127.0.0.1", 1, weight);
    }

    @Test
    void picksTheBackendWithFewestInFlight() {
        Backend a = backend("a", 1);
        Backend b = backend("b", 1);
        a.lease();
        a.lease();
        b.lease();
        assertSame(b, lc.choose(List.of(a, b)));
    }

    @Test
    void skipsUnhealthyBackendsAndReturnsNullWhenNoneIsLeft() {
        Backend a = backend("a", 1);
        Backend b = backend("b", 1);
        b.lease();
        b.lease();
        a.markDown("test");
        assertSame(b, lc.choose(List.of(a, b)));
        b.markDown("test");
        assertNull(lc.choose(List.of(a, b)));
    }

    @Test
    void breaksTiesRandomlyInsteadOfFavouringTheFirst() {
        List<Backend> pool = List.of(backend("a", 1), backend("b", 1), backend("c", 1));
        Map<Backend, Integer> picks = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            picks.merge(lc.choose(pool), 1, Integer::sum);
        }
        // Each should get about 1000; 700 is over 10 standard deviations away.
        pool.forEach(b -> assertTrue(picks.getOrDefault(b, 0) > 700, picks.toString()));
    }

    @Test
    void weightsScaleTheLoad() {
        Backend heavy = backend("heavy", 3);
        Backend light = backend("light", 1);
        List<Backend> pool = List.of(heavy, light);
        List<Backend.Lease> leases = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            leases.add(lc.choose(pool).lease());
        }
        assertEquals(30, heavy.inFlight());
        assertEquals(10, light.inFlight());
        leases.forEach(Backend.Lease::release);
        assertEquals(0, heavy.inFlight() + light.inFlight());
    }

    @Test
    void aLeaseIsReleasedExactlyOnce() {
        Backend a = backend("a", 1);
        Backend.Lease lease = a.lease();
        assertTrue(lease.release());
        assertTrue(!lease.release());
        assertEquals(0, a.inFlight());
        assertEquals(1, a.requests());
    }
}
