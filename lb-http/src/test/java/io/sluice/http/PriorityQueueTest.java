package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Admission to a saturated pool over real sockets: each pool has one simulated vLLM backend with
 * room for one request, held by a long stream while the others queue; closing the stream frees the
 * slot, and the queue is then served one request at a time, so the order the answers arrive in is
 * the order the queue chose.
 */
class PriorityQueueTest {

    private static final String KEYS = AccessTest.KEYS.toString().replace("\\", "/");

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { name: prio, port: 0, host: 127.0.0.1, auth: { keys-file: "%1$s" },
                  routes: [ { path: /v1/, pool: prio }, { path: /metrics, admin: true, public: true } ] }
              - { name: fair, port: 0, host: 127.0.0.1, auth: { keys-file: "%1$s" }, routes: [ { path: /v1/, pool: fair } ] }
              - { name: share, port: 0, host: 127.0.0.1, auth: { keys-file: "%1$s" }, routes: [ { path: /v1/, pool: share } ] }
              - { name: spill, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: spilling } ] }
              - { name: patient, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: patient } ] }
            pools:
              prio:
                max-in-flight-per-backend: 1
                health: { enabled: false }
                queue: { size: 10, timeout: 20s, classes: [ interactive, batch ], class-header: x-priority,
                         key-classes: { bob: batch }, default-class: interactive, key-share-percent: 100 }
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
              fair:
                max-in-flight-per-backend: 1
                health: { enabled: false }
                queue: { size: 12, timeout: 20s, classes: [ standard ], key-share-percent: 100 }
                backends: [ { url: "http://127.0.0.1:${SIM1}" } ]
              share:
                max-in-flight-per-backend: 1
                health: { enabled: false }
                queue: { size: 4, timeout: 20s, classes: [ standard ] }
                backends: [ { url: "http://127.0.0.1:${SIM2}" } ]
              spilling:
                max-in-flight-per-backend: 1
                health: { enabled: false }
                queue: { size: 4, timeout: 20s, spill-to: spare, spill-after: 1ms }
                backends: [ { url: "http://127.0.0.1:${SIM3}" } ]
              patient:
                max-in-flight-per-backend: 1
                health: { enabled: false }
                queue: { size: 4, timeout: 20s, spill-to: spare, spill-after: 1h }
                backends: [ { url: "http://127.0.0.1:${SIM4}" } ]
              spare:
                health: { enabled: false }
                backends: [ { url: "http://127.0.0.1:${SIM5}" } ]
            admin: { scrape-interval: 0 }
            """.formatted(KEYS), sim(), sim(), sim(), sim(), sim(), sim());

    private static final String ALICE = "Authorization: Bearer sk-alice-123";
    private static final String BOB = "Authorization: Bearer sk-bob-456";
    private static final ExecutorService readers = Executors.newCachedThreadPool();

    private static SimulatorOptions sim() {
        return SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(20)).maxTokens(5000).build();
    }

    @AfterAll
    static void stopReaders() {
        readers.shutdownNow();
    }

    private static BackendPool pool(String name) {
        return sluice.server().upstreams().pool(name);
    }

    /** Takes the pool's one slot with a long stream; closing it frees the slot. */
    private static RawHttp hold(String listener, String... headers) throws IOException {
        RawHttp c = new RawHttp(sluice.server().port(listener));
        c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5000), headers);
        assertEquals(200, c.readHead().status());
        c.readChunk();
        return c;
    }

    /** A short request, sent; its answer is read later. */
    private record Sent(String name, RawHttp client) {
    }

    private static Sent send(String listener, String name, String... headers) throws IOException {
        RawHttp c = new RawHttp(sluice.server().port(listener));
        c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), headers);
        return new Sent(name, c);
    }

    private static void awaitQueued(String pool, int n) throws InterruptedException {
        Await.until(n + " queued in " + pool, Duration.ofSeconds(5), () -> pool(pool).queued() == n);
    }

    /** Frees the slot and returns the names in the order their answers (all 200) arrived. */
    private static List<String> release(RawHttp holder, List<Sent> sent) throws Exception {
        CountDownLatch reading = new CountDownLatch(sent.size());
        List<Future<long[]>> done = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            Sent s = sent.get(i);
            int index = i;
            done.add(readers.submit(() -> {
                reading.countDown();
                RawHttp.Response r = s.client().exchange();
                long at = System.nanoTime();
                assertEquals(200, r.status(), s.name() + ": " + r.body().text());
                return new long[] {at, index};
            }));
        }
        assertTrue(reading.await(5, TimeUnit.SECONDS));
        holder.close();
        List<long[]> arrivals = new ArrayList<>();
        for (Future<long[]> f : done) {
            arrivals.add(f.get(30, TimeUnit.SECONDS));
        }
        arrivals.sort(Comparator.comparingLong(a -> a[0]));
        List<String> order = new ArrayList<>();
        for (long[] a : arrivals) {
            order.add(sent.get((int) a[1]).name());
        }
        for (Sent s : sent) {
            s.client().close();
        }
        return order;
    }

    @Test
    void interactiveIsServedAheadOfBatchAndAKeysClassWinsOverTheHeader() throws Exception {
        RawHttp holder = hold("prio", ALICE);
        List<Sent> sent = new ArrayList<>();
        sent.add(send("prio", "bob-1", BOB));
        awaitQueued("prio", 1);
        sent.add(send("prio", "bob-2", BOB, "x-priority: interactive")); // bob's key is batch whatever he asks
        awaitQueued("prio", 2);
        sent.add(send("prio", "alice-batch", ALICE, "x-priority: batch"));
        awaitQueued("prio", 3);
        sent.add(send("prio", "alice-1", ALICE));
        awaitQueued("prio", 4); // queued in this order: alice-1 before alice-2
        sent.add(send("prio", "alice-2", ALICE, "x-priority: interactive"));
        awaitQueued("prio", 5);
        assertEquals(Map.of("interactive", 2, "batch", 3), pool("prio").queuedByClass());
        RawHttp.Response metrics = AdminBackendsTest.call(sluice.server().port("prio"), "GET", "/metrics", null);
        assertTrue(metrics.body().text().contains("sluice_pool_queued_requests{class=\"batch\",pool=\"prio\"} 3"),
                metrics.body().text());

        List<String> order = release(holder, sent);

        assertEquals(List.of("alice-1", "alice-2"), order.subList(0, 2), "interactive first: " + order);
        assertEquals(List.of("bob-1", "alice-batch", "bob-2"), order.subList(2, 5), "then batch, clients taking turns: " + order);
    }

    @Test
    void aBurstingKeyAndASmallOneAreServedInterleaved() throws Exception {
        RawHttp holder = hold("fair", ALICE);
        List<Sent> sent = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            sent.add(send("fair", "alice-" + i, ALICE));
            awaitQueued("fair", i); // queued in this order
        }
        sent.add(send("fair", "bob-1", BOB));
        awaitQueued("fair", 11);
        sent.add(send("fair", "bob-2", BOB));
        awaitQueued("fair", 12);

        List<String> order = release(holder, sent);

        assertEquals(List.of("alice-1", "bob-1", "alice-2", "bob-2", "alice-3"), order.subList(0, 5),
                "bob's two do not wait behind alice's ten: " + order);
        assertEquals(12, order.size());
    }

    @Test
    void oneKeyCannotTakeMoreThanItsShareOfTheQueue() throws Exception {
        RawHttp holder = hold("share", ALICE);
        List<Sent> sent = new ArrayList<>();
        sent.add(send("share", "alice-1", ALICE));
        awaitQueued("share", 1); // queued in this order: two connections sent at once may arrive either way
        sent.add(send("share", "alice-2", ALICE));
        awaitQueued("share", 2);
        try (RawHttp third = new RawHttp(sluice.server().port("share"))) {
            RawHttp.Response r = third.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), ALICE).exchange();
            assertEquals(503, r.status(), "half of 4 places is alice's share");
            assertTrue(r.body().text().contains("queue_full"), r.body().text());
        }
        sent.add(send("share", "bob-1", BOB));
        awaitQueued("share", 3); // bob still has room

        List<String> order = release(holder, sent);

        assertEquals(List.of("alice-1", "bob-1", "alice-2"), order);
    }

    @Test
    void aRequestWhosePredictedWaitIsTooLongSpillsAtOnce() throws Exception {
        seed("spill");
        Backend spare = pool("spare").backends().get(0);
        long before = spare.requests();
        RawHttp holder = hold("spill");
        try (RawHttp c = new RawHttp(sluice.server().port("spill"))) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange();
            assertEquals(200, r.status(), r.body().text());
        }
        assertEquals(before + 1, spare.requests(), "answered by the spill pool");
        assertEquals(0, pool("spilling").queued());
        holder.close();
        Await.until("the hold ended", Duration.ofSeconds(10), () -> pool("spilling").backends().get(0).inFlight() == 0);
    }

    @Test
    void aRequestWhosePredictedWaitIsWithinTheBoundWaits() throws Exception {
        seed("patient");
        Backend spare = pool("spare").backends().get(0);
        long before = spare.requests();
        RawHttp holder = hold("patient");
        List<Sent> sent = List.of(send("patient", "waiter"));
        awaitQueued("patient", 1);

        assertEquals(List.of("waiter"), release(holder, sent));
        assertEquals(before, spare.requests(), "it waited for its own pool");
    }

    /** One whole request, so the pool has a mean service time to predict waits with. */
    private static void seed(String listener) throws IOException {
        try (RawHttp c = new RawHttp(sluice.server().port(listener))) {
            assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange().status());
        }
    }
}
