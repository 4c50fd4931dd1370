package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two Sluice gateways (two replicas behind an L4 balancer, as it were), each with its own listeners
 * and simulator, one Redis: a key's request and token budgets are held jointly; with Redis stopped a
 * fail-open limit falls back to each replica's own buckets and a fail-closed one refuses with 503;
 * with Redis back the budgets are shared again.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SharedRateLimitTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int N = 6;
    static final TestRedis redis = TestRedis.onFreePort();
    static final int BURST = 100;
    static final String KEYS = "alice sk-alice-123\nbob sk-bob-456\ncarol sk-carol-789\ndave sk-dave-000\nerin sk-erin-111\n"
            + "frank sk-frank-222\ngina sk-gina-333\nhank sk-hank-444\n";
    static final String YAML = """
            listeners:
              - { name: joint, host: 127.0.0.1, port: 0, auth: { keys-file: "${DIR}/keys.txt" }, routes: [ { path: /v1/, pool: vllm } ],
                  rate-limits: { store: { redis: "redis://127.0.0.1:${REDIS}", timeout: 500ms }, per-key: { requests-per-minute: %1$d } } }
              - { name: tokens, host: 127.0.0.1, port: 0, auth: { keys-file: "${DIR}/keys.txt" }, routes: [ { path: /v1/, pool: vllm } ],
                  rate-limits: { store: { redis: "redis://127.0.0.1:${REDIS}", timeout: 500ms }, per-key: { tokens-per-minute: 40 } } }
              - { name: closed, host: 127.0.0.1, port: 0, auth: { keys-file: "${DIR}/keys.txt" }, routes: [ { path: /v1/, pool: vllm } ],
                  rate-limits: { store: { redis: "redis://127.0.0.1:${REDIS}", timeout: 500ms, on-failure: closed },
                                 per-key: { requests-per-minute: 100000 } } }
              - { name: burst, host: 127.0.0.1, port: 0, auth: { keys-file: "${DIR}/keys.txt" }, routes: [ { path: /v1/, pool: vllm } ],
                  rate-limits: { store: { redis: "redis://127.0.0.1:${REDIS}", timeout: 500ms }, per-key: { requests-per-minute: %2$d } } }
              - { name: shared-fast, host: 127.0.0.1, port: 0, auth: { keys-file: "${DIR}/keys.txt" }, routes: [ { path: /v1/, pool: vllm } ],
                  rate-limits: { store: { redis: "redis://127.0.0.1:${REDIS}" }, per-key: { requests-per-minute: 10000000 } } }
              - { name: local-fast, host: 127.0.0.1, port: 0, auth: { keys-file: "${DIR}/keys.txt" }, routes: [ { path: /v1/, pool: vllm } ],
                  rate-limits: { per-key: { requests-per-minute: 10000000 } } }
            pools:
              vllm: { backends: [ { url: "http://127.0.0.1:${SIM}" } ] }
            admin: { scrape-interval: 0 }
            """.formatted(N, BURST);

    /** Replica a, with the simulator that both replicas proxy to. */
    @RegisterExtension
    static final SluiceExtension a = gateway(SluiceExtension.builder()
            .simulators(SimulatorOptions.builder().model("demo").ttft(Duration.ZERO).itl(Duration.ofMillis(5)).maxTokens(500).build())
            .env("SIM", "${SIM0}"));
    /** Replica b: another gateway, with its own listeners, in front of a's simulator. */
    @RegisterExtension
    static final SluiceExtension b = gateway(SluiceExtension.builder()
            .backend("SIM", () -> a.sim(0).port(), port -> port));

    static SluiceExtension gateway(SluiceExtension.Builder builder) {
        return builder
                .file("keys.txt", KEYS)
                .env("REDIS", String.valueOf(redis == null ? 1 : redis.port()))
                .yaml(YAML)
                .build();
    }

    @BeforeAll
    static void startRedis() throws Exception {
        TestRedis.require(redis).start();
        Await.until("both gateways connected to Redis", Duration.ofSeconds(15),
                () -> a.server().limitStoresUp() && b.server().limitStoresUp());
    }

    @AfterAll
    static void stopRedis() throws Exception {
        if (redis != null) {
            redis.stop();
        }
    }

    static RawHttp.Response chat(SluiceExtension gw, String listener, String key) throws IOException {
        try (RawHttp c = new RawHttp(gw.server().port(listener))) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), "Authorization: Bearer " + key).exchange();
        }
    }

    /** Alternating between the replicas, a key gets N requests in all; the next is refused on either. */
    static void assertJointLimit(String key) throws IOException {
        for (int i = 0; i < N; i++) {
            SluiceExtension gw = i % 2 == 0 ? a : b;
            RawHttp.Response r = chat(gw, "joint", key);
            assertEquals(200, r.status(), "request " + (i + 1) + " of " + N + " on gateway " + (gw == a ? "a" : "b"));
            assertEquals(String.valueOf(N - 1 - i), r.header("x-ratelimit-remaining-requests"),
                    "the remaining count is the joint one");
        }
        RawHttp.Response onA = chat(a, "joint", key);
        RawHttp.Response onB = chat(b, "joint", key);
        assertEquals(429, onA.status(), "request " + (N + 1) + " on gateway a");
        assertEquals(429, onB.status(), "request " + (N + 1) + " on gateway b");
        assertEquals("rate_limit_exceeded", onB.header("x-sluice-error"));
    }

    @Test
    @Order(1)
    void aKeysRequestLimitIsHeldJointlyByBothGateways() throws Exception {
        assertJointLimit("sk-alice-123");
        String keys = redis.keys();
        assertTrue(keys.contains("sluice:rl:"), keys);
        assertFalse(keys.contains("alice") || keys.contains("sk-"), "neither key names nor keys are stored in Redis: " + keys);
    }

    @Test
    @Order(2)
    void tokensSpentThroughOneGatewayCountOnTheOther() throws Exception {
        try (RawHttp c = new RawHttp(a.server().port("tokens"))) {
            c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 400), "Authorization: Bearer sk-bob-456");
            RawHttp.Head head = c.readHead();
            assertEquals(200, head.status());
            RawHttp.Body body = c.readBody(head);
            assertFalse(body.complete(), "the stream must be cut by the token limit");
            List<String> events = body.events();
            assertTrue(events.size() < 200, "the stream ran on to " + events.size() + " events");
            assertTrue(events.get(events.size() - 1).contains("rate_limit_error"), events.get(events.size() - 1));
        }
        RawHttp.Response onB = chat(b, "tokens", "sk-bob-456");
        assertEquals(429, onB.status(), "the tokens spent through gateway a count on gateway b");
        assertEquals("0", onB.header("x-ratelimit-remaining-tokens"));
    }

    /**
     * Both replicas at once, one client each as fast as it can, one key: the budget holds in total
     * (plus what refills while the loop runs), however the requests are spread (docs/SCALING.md).
     */
    @Test
    @Order(3)
    void aBurstOnBothReplicasAtOnceIsAdmittedOnlyOnceInTotal() throws Exception {
        int perReplica = 2 * BURST;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        long start = System.nanoTime();
        try {
            java.util.concurrent.Future<Integer> onA = pool.submit(() -> admitted(a, perReplica));
            java.util.concurrent.Future<Integer> onB = pool.submit(() -> admitted(b, perReplica));
            int fromA = onA.get(60, java.util.concurrent.TimeUnit.SECONDS);
            int fromB = onB.get(60, java.util.concurrent.TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            long refilled = (long) Math.ceil(seconds * BURST / 60.0);
            System.out.printf("burst: %d requests per replica in %.2f s, limit %d/min: admitted %d on a, %d on b, %d in total"
                    + " (at most %d with what refilled meanwhile)%n", perReplica, seconds, BURST, fromA, fromB, fromA + fromB, BURST + refilled);
            assertTrue(fromA + fromB >= BURST, "the whole budget is usable: " + (fromA + fromB));
            assertTrue(fromA + fromB <= BURST + refilled, "held jointly: " + fromA + " + " + fromB);
            assertTrue(fromA > 0 && fromB > 0, "both replicas admitted some");
        } finally {
            pool.shutdownNow();
        }
    }

    private static int admitted(SluiceExtension gw, int requests) throws IOException {
        int ok = 0;
        try (RawHttp c = new RawHttp(gw.server().port("burst"))) {
            for (int i = 0; i < requests; i++) {
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1),
                        "Authorization: Bearer sk-frank-222").exchange();
                assertTrue(r.status() == 200 || r.status() == 429, "status " + r.status());
                ok += r.status() == 200 ? 1 : 0;
            }
        }
        return ok;
    }

    /**
     * The added latency of a Redis check per request, over loopback (docs/SCALING.md): sequential
     * requests on one keep-alive connection, {@code GET /v1/models} (answered by the gateway itself,
     * so the check is most of the work) and a one-token chat completion through the simulator, each
     * with local buckets and with Redis ones. {@code -Dsluice.scaling.n} for a longer run.
     */
    @Test
    @Order(4)
    void theAddedLatencyOfARedisCheck() throws Exception {
        int n = Integer.getInteger("sluice.scaling.n", 300);
        for (boolean chat : new boolean[] {false, true}) {
            long[] local = timings(a, "local-fast", n, chat);
            long[] shared = timings(a, "shared-fast", n, chat);
            System.out.printf("%s, %d sequential keep-alive requests: local buckets p50 %.0f us p99 %.0f us;"
                            + " Redis buckets p50 %.0f us p99 %.0f us%n", chat ? "chat completion (1 token)" : "GET /v1/models",
                    n, pct(local, 50), pct(local, 99), pct(shared, 50), pct(shared, 99));
            assertTrue(pct(shared, 50) < 50_000, "a Redis check on loopback takes far less than 50 ms");
        }
    }

    private static long[] timings(SluiceExtension gw, String listener, int n, boolean chat) throws IOException {
        long[] t = new long[n];
        try (RawHttp c = new RawHttp(gw.server().port(listener))) {
            for (int i = -100; i < n; i++) { // the first 100 warm up
                long start = System.nanoTime();
                RawHttp.Response r = (chat ? c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1), "Authorization: Bearer sk-erin-111")
                        : c.get("/v1/models", "Authorization: Bearer sk-erin-111")).exchange();
                long took = System.nanoTime() - start;
                assertEquals(200, r.status());
                assertEquals("10000000", r.header("x-ratelimit-limit-requests"), "the limits were checked");
                if (i >= 0) {
                    t[i] = took;
                }
            }
        }
        Arrays.sort(t);
        return t;
    }

    private static double pct(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1000.0;
    }

    /** Pipelined HTTP/1.1 requests and concurrent HTTP/2 streams wait for Redis's answers and keep their order. */
    @Test
    @Order(5)
    void pipelinedRequestsAndHttp2StreamsWaitForTheirAnswers() throws Exception {
        String body = RawHttp.chatBody("demo", false, 1);
        String one = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-gina-333\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        try (RawHttp c = new RawHttp(a.server().port("joint"))) {
            c.sendRaw(one + one + one);
            for (int i = 0; i < 3; i++) {
                RawHttp.Response r = c.exchange();
                assertEquals(200, r.status());
                assertEquals(String.valueOf(N - 1 - i), r.header("x-ratelimit-remaining-requests"), "answers in request order");
            }
        }
        try (H2Client h2 = new H2Client(b.server().port("joint"), 1 << 20)) {
            List<H2Client.Stream> streams = new java.util.ArrayList<>();
            for (int i = 0; i < N - 3 + 1; i++) {
                streams.add(h2.post("/v1/chat/completions", body, "authorization: Bearer sk-gina-333"));
            }
            int ok = 0;
            int limited = 0;
            for (H2Client.Stream s : streams) {
                assertTrue(s.awaitEnd(10), "stream answered");
                ok += s.status == 200 ? 1 : 0;
                limited += s.status == 429 ? 1 : 0;
            }
            assertEquals(N - 3, ok, "the rest of the joint budget, on the other replica over HTTP/2");
            assertEquals(1, limited);
        }
    }

    /** A Redis that hangs (SIGSTOP) is waited for only up to the store's timeout; a client leaving meanwhile costs nothing. */
    @Test
    @Order(6)
    void aHungRedisIsWaitedForOnlyUpToTheTimeout() throws Exception {
        redis.signal("STOP");
        try {
            // A client that sends and goes away while its admission waits: nothing may leak (paranoid detection).
            try (RawHttp gone = new RawHttp(a.server().port("joint"))) {
                gone.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1), "Authorization: Bearer sk-hank-444");
            }
            long start = System.nanoTime();
            RawHttp.Response open = chat(a, "joint", "sk-hank-444");
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(200, open.status(), "fail open after the timeout");
            assertTrue(waitedMs >= 400 && waitedMs < 5000, "waited " + waitedMs + " ms for a 500 ms timeout");
            assertEquals(503, chat(b, "closed", "sk-hank-444").status(), "fail closed after the timeout");
        } finally {
            redis.signal("CONT");
        }
        Await.until("Redis answers again", Duration.ofSeconds(10), () -> {
            try {
                return chat(a, "closed", "sk-hank-444").status() == 200 && chat(b, "closed", "sk-hank-444").status() == 200;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    @Order(7)
    void withRedisAwayLimitsFailOpenOrClosedAndAreSharedAgainOnceItIsBack() throws Exception {
        redis.stop();
        // Fail open: each replica admits by its own buckets, so the key gets N on each.
        for (SluiceExtension gw : List.of(a, b)) {
            for (int i = 0; i < N; i++) {
                assertEquals(200, chat(gw, "joint", "sk-carol-789").status(), "fail open: request " + (i + 1) + " on this replica");
            }
            assertEquals(429, chat(gw, "joint", "sk-carol-789").status(), "fail open: the replica's own limit still holds");
        }
        // Fail closed: refused with a clear error.
        for (SluiceExtension gw : List.of(a, b)) {
            RawHttp.Response r = chat(gw, "closed", "sk-carol-789");
            assertEquals(503, r.status());
            assertEquals("rate_limit_unavailable", r.header("x-sluice-error"));
            JsonNode err = JSON.readTree(r.body().text()).get("error");
            assertTrue(err.get("message").asText().contains("unreachable"), err.toString());
            assertEquals("1", r.header("retry-after"));
        }
        assertFalse(a.server().limitStoresUp());

        redis.start();
        // Each store reconnects on its own timer (up to a second apart): a replica whose "joint" store
        // is still reconnecting would fail open, so wait for every store of both, not only "closed".
        Await.until("both gateways reach Redis again", Duration.ofSeconds(20), () -> {
            try {
                return a.server().limitStoresConnected() && b.server().limitStoresConnected()
                        && chat(a, "closed", "sk-dave-000").status() == 200 && chat(b, "closed", "sk-dave-000").status() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        assertJointLimit("sk-dave-000");
    }

    /** A reload that changes a store: the new one is used, the one no listener names any more is closed. */
    @Test
    @Order(8)
    void aReloadedStoreReplacesTheOldOne() throws Exception {
        Await.until("every store of both gateways connected", Duration.ofSeconds(20),
                () -> a.server().limitStoresConnected() && b.server().limitStoresConnected());
        long before = redis.info("connected_clients");
        String old = "timeout: 500ms, on-failure: closed }";
        String changed = YAML.replace(old, "timeout: 500ms, on-failure: closed, key-prefix: \"other:\" }");
        assertFalse(changed.equals(YAML));
        a.reload(changed);
        assertEquals(200, chat(a, "closed", "sk-erin-111").status());
        assertTrue(redis.keys().contains("other:rl:"), "the new store is used");
        Await.until("the old store's connection closed and the new one's open", Duration.ofSeconds(10), () -> {
            try {
                return redis.info("connected_clients") == before;
            } catch (IOException e) {
                return false;
            }
        });
    }
}
