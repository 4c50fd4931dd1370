package io.sluice.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The order a pool's classes and clients are served in, without sockets. */
class FairQueueTest {

    private static FairQueue.Waiter w(String cls, String key) {
        return new FairQueue.Waiter(() -> { }, cls, key);
    }

    private static List<String> drain(FairQueue q) {
        List<String> out = new ArrayList<>();
        for (FairQueue.Waiter x; (x = q.poll()) != null; ) {
            out.add(x.cls() + "/" + x.key());
        }
        return out;
    }

    @Test
    void aHigherClassIsServedFirstWhateverTheArrivalOrder() {
        FairQueue q = new FairQueue(List.of("interactive", "batch"));
        q.add(w("batch", "a"), 10);
        q.add(w("batch", "b"), 10);
        q.add(w("interactive", "c"), 10);
        assertEquals(Map.of("interactive", 1, "batch", 2), q.sizes());
        assertEquals(List.of("interactive/c", "batch/a", "batch/b"), drain(q));
        assertEquals(0, q.size());
    }

    @Test
    void clientsOfAClassTakeTurnsSoABurstDoesNotStandAheadOfOthers() {
        FairQueue q = new FairQueue(List.of("std"));
        for (int i = 0; i < 4; i++) {
            q.add(w("std", "burst"), 10);
        }
        q.add(w("std", "small"), 10);
        q.add(w("std", "small"), 10);
        assertEquals(List.of("std/burst", "std/small", "std/burst", "std/small", "std/burst", "std/burst"), drain(q));
    }

    @Test
    void aClientCannotHoldMoreThanItsShare() {
        FairQueue q = new FairQueue(List.of("std"));
        assertTrue(q.add(w("std", "a"), 2));
        assertTrue(q.add(w("std", "a"), 2));
        assertFalse(q.add(w("std", "a"), 2));
        assertTrue(q.add(w("std", "b"), 2), "another client still gets a place");
        assertEquals(3, q.size());
    }

    @Test
    void aRequeuedWaiterIsNextAgainAndARemovedOneIsGone() {
        FairQueue q = new FairQueue(List.of("std"));
        FairQueue.Waiter a1 = w("std", "a");
        FairQueue.Waiter b1 = w("std", "b");
        q.add(a1, 10);
        q.add(b1, 10);
        q.add(w("std", "a"), 10);
        FairQueue.Waiter first = q.poll();
        assertEquals(a1, first);
        q.addFirst(first); // woke, found the slot taken
        assertEquals(List.of("a", "b"), q.turn("std"));
        assertTrue(q.remove(b1));
        assertFalse(q.remove(b1));
        assertEquals(List.of("std/a", "std/a"), drain(q));
        assertNull(q.poll());
    }

    @Test
    void aClassDroppedByAReloadIsServedAfterTheDeclaredOnes() {
        FairQueue q = new FairQueue(List.of("old", "std"));
        q.add(w("old", "a"), 10);
        q.add(w("std", "b"), 10);
        q.order(List.of("std"));
        assertEquals(List.of("std/b", "old/a"), drain(q));
    }
}
