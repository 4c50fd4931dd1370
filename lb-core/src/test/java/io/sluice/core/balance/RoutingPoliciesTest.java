package io.sluice.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.RoutingConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The LLM-aware policies' choices, on backends whose load the test sets. */
class RoutingPoliciesTest {
    static final RoutingConfig R = RoutingConfig.DEFAULT;

    static Backend backend(String id) {
        return new Backend(id, "p", "127.0.0.1", 1, 1);
    }

    static List<Backend> pool(int n) {
        Backend[] bs = new Backend[n];
        for (int i = 0; i < n; i++) {
            bs[i] = backend("b" + i);
        }
        return List.of(bs);
    }

    static void load(Backend b, int inFlight) {
        for (int i = 0; i < inFlight; i++) {
            b.lease();
        }
    }

    /** A request with the given prefix blocks or session key, recording what the policy said. */
    static final class Req implements BalanceRequest {
        final long[] blocks;
        final String session;
        String reason;

        Req(long[] blocks, String session) {
            this.blocks = blocks;
            this.session = session;
        }

        static Req prefix(long... blocks) {
            return new Req(blocks, null);
        }

        static Req session(String key) {
            return new Req(null, key);
        }

        @Override
        public long[] prefixBlocks() {
            return blocks;
        }

        @Override
        public String sessionKey() {
            return session;
        }

        @Override
        public void explain(String r) {
            reason = r;
        }
    }

    @Test
    void everyPolicyIsRegisteredByName() {
        assertEquals(List.of("least-connections", "round-robin", "power-of-two", "prefix-affinity", "session", "load-aware"),
                BalancePolicies.names());
        for (String name : BalancePolicies.names()) {
            assertTrue(BalancePolicies.create(name, R).choose(pool(2)) != null, name);
        }
    }

    @Test
    void prefixAffinityReturnsToTheBackendThatServedTheLongestPrefix() {
        List<Backend> pool = pool(4);
        PrefixAffinity p = new PrefixAffinity(R);
        Req fresh = Req.prefix(1, 2, 3);
        Backend first = p.choose(pool, fresh, 0, null);
        assertEquals("prefix-blocks=0/3", fresh.reason);
        // Another conversation, placed elsewhere (as when the first backend was tried already).
        Backend second = p.choose(pool, Req.prefix(7, 8), 0, List.of(first));
        assertNotSame(first, second);
        // The same system prompt (blocks 1, 2) with a new last turn: back to the first backend.
        Req again = Req.prefix(1, 2, 9, 10);
        assertSame(first, p.choose(pool, again, 0, null));
        assertEquals("prefix-blocks=2/4", again.reason);
        assertSame(first, p.owner(10), "the chosen backend now owns all the request's blocks");
        Req other = Req.prefix(7, 8, 11);
        assertSame(second, p.choose(pool, other, 0, null));
        assertEquals("prefix-blocks=2/3", other.reason);
    }

    @Test
    void theBoundBreaksAnAffinityToAnOverloadedBackend() {
        List<Backend> pool = pool(4);
        PrefixAffinity p = new PrefixAffinity(R);
        Backend hot = p.choose(pool, Req.prefix(5, 6), 0, null);
        // 4 in flight of 4 total: the limit is ceil(1.25 × 5 / 4) = 2, and the hot backend has 4.
        load(hot, 4);
        Req r = Req.prefix(5, 6);
        Backend chosen = p.choose(pool, r, 0, null);
        assertNotSame(hot, chosen);
        assertEquals("prefix-blocks=0/2; bound=exceeded", r.reason);
        // It now owns the prefix: the next request with it follows (the most recent server).
        Req next = Req.prefix(5, 6);
        assertSame(chosen, p.choose(pool, next, 0, null));
        assertEquals("prefix-blocks=2/2", next.reason);
    }

    @Test
    void withinTheBoundTheAffinityHoldsThoughAnotherBackendIsIdle() {
        List<Backend> pool = pool(2);
        PrefixAffinity p = new PrefixAffinity(new RoutingConfig(2, 16, 64, null, Duration.ofSeconds(5), 4, 1, 4));
        Backend warm = p.choose(pool, Req.prefix(1), 0, null);
        load(warm, 2); // limit: ceil(2 × 3 / 2) = 3
        assertSame(warm, p.choose(pool, Req.prefix(1), 0, null));
    }

    @Test
    void anAffinityAvoidsABackendWhoseScrapeShowsAQueueWhileAnotherHasNone() {
        List<Backend> pool = pool(2);
        PrefixAffinity p = new PrefixAffinity(R);
        Backend warm = p.choose(pool, Req.prefix(1), 0, null);
        Backend other = pool.get(0) == warm ? pool.get(1) : pool.get(0);
        long now = System.currentTimeMillis();
        warm.loadSample(new Backend.LoadSample(3, 8, 0.9, now));
        other.loadSample(new Backend.LoadSample(0, 1, 0.1, now));
        Req r = Req.prefix(1);
        assertSame(other, p.choose(pool, r, 0, null));
        assertEquals("prefix-blocks=0/1; bound=queued", r.reason);
    }

    @Test
    void noPrefixMeansLeastLoaded() {
        List<Backend> pool = pool(3);
        load(pool.get(0), 2);
        load(pool.get(2), 1);
        Req r = Req.prefix();
        assertSame(pool.get(1), new PrefixAffinity(R).choose(pool, new Req(null, null), 0, null));
        assertSame(pool.get(1), new PrefixAffinity(R).choose(pool, r, 0, null));
        assertEquals("prefix-blocks=0/0", r.reason);
    }

    @Test
    void sessionSticksAndSpreadsSessions() {
        List<Backend> pool = pool(4);
        SessionAffinity s = new SessionAffinity(R);
        Set<Backend> used = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            Backend b = s.choose(pool, Req.session("user-" + i), 0, null);
            assertSame(b, s.choose(pool, Req.session("user-" + i), 0, null));
            used.add(b);
        }
        assertEquals(4, used.size());
    }

    @Test
    void sessionMovesOnlyTheSessionsOfABackendThatLeaves() {
        List<Backend> pool = pool(4);
        SessionAffinity s = new SessionAffinity(R);
        Map<String, Backend> before = new HashMap<>();
        for (int i = 0; i < 64; i++) {
            before.put("u" + i, s.choose(pool, Req.session("u" + i), 0, null));
        }
        Backend gone = pool.get(2);
        gone.markDown("test");
        for (Map.Entry<String, Backend> e : before.entrySet()) {
            Backend now = s.choose(pool, Req.session(e.getKey()), 0, null);
            if (e.getValue() != gone) {
                assertSame(e.getValue(), now, e.getKey());
            } else {
                assertNotSame(gone, now);
            }
        }
    }

    @Test
    void sessionBoundBreaksToTheNextBackend() {
        List<Backend> pool = pool(3);
        SessionAffinity s = new SessionAffinity(R);
        Backend home = s.choose(pool, Req.session("alice"), 0, null);
        load(home, 5);
        Req r = Req.session("alice");
        assertNotSame(home, s.choose(pool, r, 0, null));
        assertEquals("bound=exceeded", r.reason);
        Req none = Req.session(null);
        s.choose(pool, none, 0, null);
        assertEquals("session=none", none.reason);
    }

    @Test
    void loadAwareAvoidsAQueueSluiceCannotSeeAndIgnoresStaleSamples() {
        List<Backend> pool = pool(2);
        Backend queued = pool.get(0);
        Backend calm = pool.get(1);
        load(calm, 2); // Sluice sees more on calm...
        long now = System.currentTimeMillis();
        queued.loadSample(new Backend.LoadSample(6, 8, 0.95, now)); // ...but vLLM says the other is swamped
        calm.loadSample(new Backend.LoadSample(0, 2, 0.2, now));
        LoadAware la = new LoadAware(R);
        Req r = Req.session(null);
        assertSame(calm, la.choose(pool, r, 0, null));
        // 2 running × 1 + 0.2 × 4, and nothing unseen (both in flight before the sample)
        assertEquals("score=2.8", r.reason);
        // The same samples, a minute old: only in-flight counts, and queued has none.
        queued.loadSample(new Backend.LoadSample(6, 8, 0.95, now - 60_000));
        calm.loadSample(new Backend.LoadSample(0, 2, 0.2, now - 60_000));
        Req stale = Req.session(null);
        assertSame(queued, la.choose(pool, stale, 0, null));
        assertEquals("score=0.0; metrics=stale", stale.reason);
    }

    @Test
    void loadAwareDoesNotTakeAScrapedQueueOfSluicesOwnFinishedRequestsAsCurrent() {
        List<Backend> pool = pool(2);
        Backend drained = pool.get(0);
        Backend busy = pool.get(1);
        long now = System.currentTimeMillis();
        List<Backend.Lease> leases = new java.util.ArrayList<>();
        for (int i = 0; i < 15; i++) {
            leases.add(drained.lease());
        }
        drained.loadSample(new Backend.LoadSample(5, 10, 0, now)); // all 15 were Sluice's own...
        leases.forEach(Backend.Lease::release);                      // ...and have finished since the scrape
        load(busy, 2);
        Req r = Req.session(null);
        assertSame(drained, new LoadAware(R).choose(pool, r, 0, null));
        assertEquals("score=0.0", r.reason);
    }

    @Test
    void aPrefixTooHotForOneBackendKeepsBothOfItsOwners() {
        List<Backend> pool = pool(4);
        PrefixAffinity p = new PrefixAffinity(R);
        Backend first = p.choose(pool, Req.prefix(5, 6), 0, null);
        List<Backend.Lease> firstLoad = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            firstLoad.add(first.lease());
        }
        Backend second = p.choose(pool, Req.prefix(5, 6), 0, null); // over the bound: a second backend takes it
        assertNotSame(first, second);
        firstLoad.forEach(Backend.Lease::release);
        load(second, 4); // now the second is over the bound and the first is free
        Req back = Req.prefix(5, 6);
        assertSame(first, p.choose(pool, back, 0, null));
        assertEquals("prefix-blocks=2/2", back.reason, "the first owner still holds the prefix");
    }

    @Test
    void loadAwareCountsRequestsSentSinceTheScrape() {
        List<Backend> pool = pool(2);
        long now = System.currentTimeMillis();
        pool.forEach(b -> b.loadSample(new Backend.LoadSample(0, 1, 0, now)));
        load(pool.get(0), 3); // sent after the scrape
        assertSame(pool.get(1), new LoadAware(R).choose(pool, Req.session(null), 0, null));
    }

    @Test
    void powerOfTwoNeverPicksTheMostLoadedOfThreeAndRespectsEligibility() {
        List<Backend> pool = pool(3);
        load(pool.get(0), 5);
        PowerOfTwo p2 = new PowerOfTwo(R);
        Map<Backend, Integer> picks = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            picks.merge(p2.choose(pool), 1, Integer::sum);
        }
        assertNull(picks.get(pool.get(0)), picks.toString());
        assertTrue(picks.getOrDefault(pool.get(1), 0) > 50 && picks.getOrDefault(pool.get(2), 0) > 50, picks.toString());
        assertSame(pool.get(0), p2.choose(pool, BalanceRequest.NONE, 0, List.of(pool.get(1), pool.get(2))));
        assertNull(p2.choose(pool, BalanceRequest.NONE, 5, List.of(pool.get(1), pool.get(2))));
    }

    @Test
    void policiesRespectTheInFlightLimitAndExclusions() {
        List<Backend> pool = pool(2);
        for (String name : List.of("prefix-affinity", "session", "load-aware", "power-of-two")) {
            BalancePolicy p = BalancePolicies.create(name, R);
            Backend a = p.choose(pool, new Req(new long[] {1}, "k"), 0, null);
            Backend other = pool.get(0) == a ? pool.get(1) : pool.get(0);
            assertSame(other, p.choose(pool, new Req(new long[] {1}, "k"), 0, List.of(a)), name);
            assertNull(p.choose(pool, new Req(new long[] {1}, "k"), 0, pool), name);
        }
    }
}
