package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Sluice replicas as two operating-system processes ({@code io.sluice.http.Main}, as
 * {@code java -jar sluice.jar} runs it), each with its own simulated backend, and one
 * {@code redis-server}: one key's request and token budgets are held jointly across them. The
 * in-JVM {@link SharedRateLimitTest} covers the failure modes; this one shows nothing is shared
 * but Redis.
 */
class SharedRateLimitProcessesTest {
    static final int N = 5;
    static final TestRedis redis = TestRedis.onFreePort();
    static final List<Process> replicas = new ArrayList<>();
    static final List<Path> logs = new ArrayList<>();
    static int[] ports;
    static int[] tokenPorts;

    @TempDir
    static Path dir;

    static String yaml(int port, int tokenPort) {
        return """
                listeners:
                  - { name: joint, host: 127.0.0.1, port: %1$d, auth: { keys-file: "%3$s" }, routes: [ { path: /v1/, pool: vllm } ],
                      rate-limits: { store: { redis: "redis://127.0.0.1:%4$d", timeout: 1s }, per-key: { requests-per-minute: %5$d } } }
                  - { name: tokens, host: 127.0.0.1, port: %2$d, auth: { keys-file: "%3$s" }, routes: [ { path: /v1/, pool: vllm } ],
                      rate-limits: { store: { redis: "redis://127.0.0.1:%4$d", timeout: 1s }, per-key: { tokens-per-minute: 40 } } }
                pools:
                  vllm:
                    health: { interval: 500ms, timeout: 200ms }
                    backends: [ { simulator: { model: demo, ttft: 0ms, itl: 2ms } } ]
                admin: { scrape-interval: 0 }
                """.formatted(port, tokenPort, dir.resolve("keys.txt"), redis.port(), N);
    }

    @BeforeAll
    static void start() throws Exception {
        TestRedis.require(redis).start();
        Files.writeString(dir.resolve("keys.txt"), "alice sk-alice-123\nbob sk-bob-456\n");
        ports = new int[] {FreePorts.next(), FreePorts.next()};
        tokenPorts = new int[] {FreePorts.next(), FreePorts.next()};
        for (int i = 0; i < 2; i++) {
            Path config = dir.resolve("replica-" + i + ".yaml");
            Files.writeString(config, yaml(ports[i], tokenPorts[i]));
            Path log = dir.resolve("replica-" + i + ".log");
            logs.add(log);
            replicas.add(new ProcessBuilder(AdminInferenceTest.JAVA, "-Xmx256m", "-cp", AdminInferenceTest.CP,
                    "io.sluice.http.Main", "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start());
        }
        for (int i = 0; i < 2; i++) {
            int replica = i;
            try {
                Await.until("replica " + i + " serves", Duration.ofSeconds(60), () -> serves(ports[replica]));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; log:\n" + read(logs.get(replica)), e);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (Process p : replicas) {
            p.destroy();
        }
        for (Process p : replicas) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (redis != null) {
            redis.stop();
        }
    }

    /** Up and connected to Redis: an unknown key is refused by auth, which runs before the limit. */
    private static boolean serves(int port) {
        try (RawHttp c = new RawHttp(port)) {
            return c.get("/v1/models", "Authorization: Bearer sk-nobody").exchange().status() == 401;
        } catch (Exception e) {
            return false;
        }
    }

    static RawHttp.Response chat(int port, String key, boolean stream, int maxTokens) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", stream, maxTokens), "Authorization: Bearer " + key)
                    .exchange();
        }
    }

    @Test
    void aKeysRequestBudgetIsSpentJointlyThroughBothProcesses() throws Exception {
        for (int i = 0; i < N; i++) {
            int replica = i % 2;
            RawHttp.Response r = chat(ports[replica], "sk-alice-123", false, 2);
            assertEquals(200, r.status(), "request " + (i + 1) + " of " + N + " on replica " + replica
                    + "; log:\n" + read(logs.get(replica)));
            assertEquals(String.valueOf(N - 1 - i), r.header("x-ratelimit-remaining-requests"), "the joint count");
        }
        for (int replica = 0; replica < 2; replica++) {
            RawHttp.Response r = chat(ports[replica], "sk-alice-123", false, 2);
            assertEquals(429, r.status(), "request " + (N + 1) + " on replica " + replica);
            assertEquals("rate_limit_exceeded", r.header("x-sluice-error"));
        }
    }

    @Test
    void tokensStreamedThroughOneProcessAreRefusedByTheOther() throws Exception {
        RawHttp.Response first = chat(tokenPorts[0], "sk-bob-456", false, 60);
        assertEquals(200, first.status(), first.body().text());
        Await.until("the 60 tokens spent through replica 0 reach replica 1's check", Duration.ofSeconds(10),
                () -> status(tokenPorts[1], "sk-bob-456") == 429);
        RawHttp.Response onOther = chat(tokenPorts[1], "sk-bob-456", false, 2);
        assertEquals(429, onOther.status());
        assertEquals("0", onOther.header("x-ratelimit-remaining-tokens"));
        assertFalse(read(logs.get(0)).contains("sk-bob-456") || read(logs.get(1)).contains("sk-bob-456"),
                "keys never reach the log");
    }

    /** A request that spends no tokens itself, so only what the other replica spent can exhaust the budget. */
    private static int status(int port, String key) {
        try (RawHttp c = new RawHttp(port)) {
            return c.get("/v1/models", "Authorization: Bearer " + key).exchange().status();
        } catch (IOException e) {
            return -1;
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (Exception e) {
            return "";
        }
    }
}
