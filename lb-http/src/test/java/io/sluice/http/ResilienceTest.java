package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.sim.FailureMode;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Failures survived: retries, outlier ejection, cut-off streams that say so, stalls, full backends. */
class ResilienceTest {
    static final int DEAD = FreePorts.refusing();

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { name: retry, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: retry } ] }
              - { name: replay, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: replay } ] }
              - { name: noreplay, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: noreplay } ] }
              - { name: outlier, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: outlier } ] }
              - { name: kill, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: kill } ] }
              - { name: stall, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: stall } ] }
              - { name: full, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: full } ] }
            pools:
              retry:
                health: { enabled: false }
                backends: [ { url: "http://127.0.0.1:%d" }, { url: "http://127.0.0.1:${SIM0}" } ]
              replay:
                health: { enabled: false }
                retries: { non-idempotent: true }
                backends: [ { url: "http://127.0.0.1:${SIM1}" }, { url: "http://127.0.0.1:${SIM0}" } ]
              noreplay:
                health: { enabled: false }
                backends: [ { url: "http://127.0.0.1:${SIM1}" } ]
              outlier:
                health: { interval: 1h, timeout: 1s }
                outlier: { consecutive-failures: 5, ejection: 1h }
                backends: [ { url: "http://127.0.0.1:${SIM2}" }, { url: "http://127.0.0.1:${SIM3}" } ]
              kill:
                health: { enabled: false }
                backends: [ { url: "http://127.0.0.1:${SIM4}" } ]
              stall:
                stream-idle-timeout: 300ms
                health: { enabled: false }
                backends: [ { url: "http://127.0.0.1:${SIM5}" } ]
              full:
                max-in-flight-per-backend: 1
                queue: { size: 1, timeout: 400ms }
                health: { enabled: false }
                backends: [ { url: "http://127.0.0.1:${SIM6}" } ]
            """.formatted(DEAD),
            SimulatorOptions.builder().build(),                                                // 0 healthy
            SimulatorOptions.builder().failureMode(FailureMode.RESET_MID_STREAM).build(),      // 1 resets
            SimulatorOptions.builder().failureMode(FailureMode.ERROR_500).build(),             // 2 fails fast
            SimulatorOptions.builder().ttft(Duration.ofMillis(30)).build(),                    // 3 healthy, slower
            SimulatorOptions.builder().itl(Duration.ofMillis(50)).maxTokens(2000).kvBlocks(1 << 20).build(), // 4 killed: 50 long streams fit
            SimulatorOptions.builder().ttft(Duration.ofMillis(10)).itl(Duration.ofSeconds(30)).build(), // 5 stalls
            SimulatorOptions.builder().ttft(Duration.ofMillis(10)).itl(Duration.ofMillis(40)).build()); // 6 one slot

    @Test
    void connectFailureIsRetriedOnAnotherBackend() throws Exception {
        int port = sluice.server().port("retry");
        for (int i = 0; i < 20; i++) {
            try (RawHttp c = new RawHttp(port)) {
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange();
                assertEquals(200, r.status(), "request " + i + ": " + r.body().text());
            }
        }
        Backend dead = sluice.server().upstreams().pool("retry").backends().get(0);
        assertEquals(Backend.State.UNHEALTHY, dead.state());
    }

    @Test
    void resetBeforeTheResponseIsReplayedOnlyWhenAllowed() throws Exception {
        // The resetting backend is tried first whenever it ties, so loop until it has been hit.
        long resetsBefore = sluice.sim(1).requestsTotal();
        for (int i = 0; i < 30 && sluice.sim(1).requestsTotal() - resetsBefore < 3; i++) {
            try (RawHttp c = new RawHttp(sluice.server().port("replay"))) {
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange();
                assertEquals(200, r.status(), "replayable POST must be retried: " + r.body().text());
            }
        }
        assertTrue(sluice.sim(1).requestsTotal() - resetsBefore >= 3, "the resetting backend was never tried");
        try (RawHttp c = new RawHttp(sluice.server().port("noreplay"))) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange();
            assertEquals(502, r.status(), "a POST is not replayed by default");
            assertEquals("upstream_reset", r.header("x-sluice-error"));
        }
    }

    @Test
    void aFastFailingBackendIsEjectedInsteadOfAttractingEverything() throws Exception {
        // Least connections alone would send it nearly everything: failing fast, it never has anything in flight.
        int port = sluice.server().port("outlier");
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                results.add(clients.submit(() -> {
                    try (RawHttp c = new RawHttp(port)) {
                        return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange().status();
                    }
                }));
            }
            int errors = 0;
            for (Future<Integer> f : results) {
                errors += f.get() == 500 ? 1 : 0;
            }
            long toBad = sluice.sim(2).requestsTotal();
            System.out.println("outlier: the failing backend got " + toBad + " of 200 requests");
            assertTrue(toBad <= 5 + 4, "the failing backend got " + toBad + " of 200 requests");
            assertEquals(toBad, errors);
            Backend bad = sluice.backend(2);
            assertEquals(Backend.State.UNHEALTHY, bad.state());
            assertTrue(bad.stateReason().startsWith("ejected"), bad.stateReason());
            assertEquals(1, bad.ejections());
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aBackendKilledMidStreamTellsEveryClientItsAnswerWasCutOff() throws Exception {
        int port = sluice.server().port("kill");
        List<RawHttp> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                RawHttp c = new RawHttp(port);
                c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 2000));
                streams.add(c);
            }
            List<RawHttp.Head> heads = new ArrayList<>();
            for (RawHttp c : streams) {
                RawHttp.Head h = c.readHead();
                assertEquals(200, h.status());
                heads.add(h);
                c.readChunk();
            }
            sluice.sim(4).close();
            for (int i = 0; i < streams.size(); i++) {
                RawHttp.Body body = streams.get(i).readBody(heads.get(i));
                assertFalse(body.complete(), "stream " + i + " ended as if complete");
                List<String> events = body.events();
                String last = events.get(events.size() - 1);
                assertTrue(last.startsWith("{\"error\":{"), "stream " + i + " last event: " + last);
                assertFalse(events.contains("[DONE]"));
            }
        } finally {
            for (RawHttp c : streams) {
                c.close();
            }
        }
        Await.until("in-flight back to zero", Duration.ofSeconds(5), () -> sluice.backend(4).inFlight() == 0);
    }

    @Test
    void aStreamThatStallsIsCutOffAfterTheStreamIdleTimeout() throws Exception {
        long abortedBefore = sluice.sim(5).aborted();
        try (RawHttp c = new RawHttp(sluice.server().port("stall"))) {
            c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5));
            RawHttp.Response r = new RawHttp.Response(c.readHead(), null);
            RawHttp.Body body = c.readBody(r.head());
            assertFalse(body.complete());
            String last = body.events().get(body.events().size() - 1);
            assertTrue(last.contains("sent nothing for 300ms"), last);
        }
        assertTrue(sluice.sim(5).awaitAborted(abortedBefore + 1, Duration.ofSeconds(5)), "the stalled generation was not aborted");
    }

    @Test
    void requestsWaitForAFullBackendThenGive503WithRetryAfter() throws Exception {
        int port = sluice.server().port("full");
        try (RawHttp holder = new RawHttp(port); RawHttp queued = new RawHttp(port); RawHttp rejected = new RawHttp(port)) {
            holder.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 1000));
            assertEquals(200, holder.readHead().status());
            holder.readChunk(); // the one slot is taken
            queued.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2));
            Await.until("second request queued", Duration.ofSeconds(5),
                    () -> sluice.server().upstreams().pool("full").queued() == 1);
            RawHttp.Response r = rejected.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange();
            assertEquals(503, r.status());
            assertEquals("queue_full", r.header("x-sluice-error"));
            assertEquals("1", r.header("retry-after"));
            RawHttp.Response timedOut = queued.exchange();
            assertEquals(503, timedOut.status());
            assertEquals("queue_timeout", timedOut.header("x-sluice-error"));
            assertEquals("1", timedOut.header("retry-after"));
        }
        // With the slot freed, a queued request proceeds as soon as the running one ends.
        try (RawHttp first = new RawHttp(port); RawHttp second = new RawHttp(port)) {
            first.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3));
            assertEquals(200, first.readHead().status());
            second.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2));
            assertEquals(200, second.exchange().status());
        }
    }
}
