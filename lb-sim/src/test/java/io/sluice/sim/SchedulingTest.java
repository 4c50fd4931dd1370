package io.sluice.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Pacing, admission and aborts. Waits are on simulator state with generous timeouts, never on sleeps. */
@Timeout(60)
class SchedulingTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String CHAT_STREAM = "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";

    @Test
    void tokensAreSpreadOverTime() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder()
                .ttft(Duration.ofMillis(50)).itl(Duration.ofMillis(60)).maxTokens(20).build())) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(
                    URI.create(sim.baseUrl() + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(CHAT_STREAM)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            List<Long> at = new ArrayList<>();
            long completedAtFirstEvent = -1;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("data: ")) {
                        if (at.isEmpty()) {
                            completedAtFirstEvent = sim.completed();
                        }
                        at.add(System.nanoTime());
                    }
                }
            }
            assertEquals(1 + 20 + 1, at.size()); // role, 19 words + EOS, [DONE]
            assertEquals(0, completedAtFirstEvent, "first event must arrive while the rest is still being generated");
            long spreadMs = (at.get(at.size() - 1) - at.get(0)) / 1_000_000;
            // 19 intervals of 60ms = 1140ms are scheduled; a stalled reader could only shrink what it observes.
            assertTrue(spreadMs >= 300, "stream arrived in " + spreadMs + "ms");
            assertEquals(1, sim.completed());
            assertEquals(20, sim.generationTokensTotal());
        }
    }

    @Test
    void requestsBeyondMaxNumSeqsWaitInOrder() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().maxNumSeqs(1)
                .ttft(Duration.ofMillis(20)).itl(Duration.ofMillis(20)).maxTokens(15).build());
             Raw first = Raw.post(sim.port(), "/v1/chat/completions", CHAT_STREAM)) {
            assertTrue(sim.await(s -> s.running() == 1, WAIT));
            try (Raw second = Raw.post(sim.port(), "/v1/chat/completions", CHAT_STREAM)) {
                assertTrue(sim.await(s -> s.waiting() == 1, WAIT), "second request should be queued");
                assertEquals(1, sim.running());
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(sim.baseUrl() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(metrics.contains("vllm:num_requests_waiting{engine=\"0\",model_name=\"demo\"} 1.0"), metrics);
                assertTrue(metrics.contains("vllm:num_requests_running{engine=\"0\",model_name=\"demo\"} 1.0"), metrics);
                assertTrue(first.readUntil("data: [DONE]"));
                assertTrue(second.readUntil("data: [DONE]"));
                assertTrue(sim.await(s -> s.completed() == 2 && s.running() == 0 && s.waiting() == 0, WAIT));
            }
        }
    }

    @Test
    void clientClosingMidStreamAborts() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder()
                .ttft(Duration.ofMillis(20)).itl(Duration.ofMillis(20)).maxTokens(100_000).maxModelLen(1 << 20)
                .build())) {
            Raw raw = Raw.post(sim.port(), "/v1/chat/completions", CHAT_STREAM);
            assertTrue(raw.readUntil("\"content\":\" ipsum\""));
            raw.close();
            assertTrue(sim.awaitAborted(1, WAIT));
            assertTrue(sim.await(s -> s.running() == 0, WAIT));
            long tokens = sim.generationTokensTotal();
            assertTrue(tokens >= 2 && tokens < 100_000, "tokens: " + tokens);
            assertEquals(0, sim.completed());
        }
    }

    @Test
    void clientClosingDuringTimeToFirstTokenAborts() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofSeconds(5)).build())) {
            Raw raw = Raw.post(sim.port(), "/v1/completions", "{\"prompt\":\"p\"}");
            assertTrue(sim.await(s -> s.running() == 1, WAIT));
            Thread.sleep(100);
            raw.close();
            assertTrue(sim.awaitAborted(1, WAIT));
            assertEquals(0, sim.running());
            assertEquals(0, sim.generationTokensTotal());
            assertEquals(0, sim.promptTokensTotal(), "prefill never finished");
        }
    }

    @Test
    void clientClosingWhileWaitingAbortsAndFreesTheQueue() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().maxNumSeqs(1)
                .ttft(Duration.ofSeconds(30)).build())) {
            Raw running = Raw.post(sim.port(), "/v1/chat/completions", CHAT_STREAM);
            assertTrue(sim.await(s -> s.running() == 1, WAIT));
            Raw queued = Raw.post(sim.port(), "/v1/chat/completions", CHAT_STREAM);
            assertTrue(sim.await(s -> s.waiting() == 1, WAIT));
            queued.close();
            assertTrue(sim.awaitAborted(1, WAIT));
            assertEquals(0, sim.waiting());
            assertEquals(1, sim.running());
            running.close();
            assertTrue(sim.awaitAborted(2, WAIT));
            assertEquals(0, sim.running());
        }
    }

    @Test
    void manyConcurrentStreamsOnOneEventLoop() throws Exception {
        int n = 200;
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder()
                .ttft(Duration.ofMillis(50)).itl(Duration.ofMillis(10)).maxTokens(10).build())) {
            List<Raw> clients = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    clients.add(Raw.post(sim.port(), "/v1/chat/completions", CHAT_STREAM));
                }
                for (Raw c : clients) {
                    assertTrue(c.readUntil("data: [DONE]\n\n"), c.text());
                    assertEquals(1 + 10 + 1, Raw.count(c.text(), "data: "));
                }
            } finally {
                for (Raw c : clients) {
                    c.close();
                }
            }
            assertTrue(sim.await(s -> s.completed() == n, WAIT));
            assertEquals(0, sim.aborted());
            assertEquals(n * 10L, sim.generationTokensTotal());
        }
    }

    @Test
    void slowReaderPausesGenerationInsteadOfBuffering() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ZERO)
                .itl(Duration.ZERO).maxTokens(1_000_000).maxModelLen(1 << 21).build());
             Raw raw = Raw.post(sim.port(), "/v1/completions", "{\"prompt\":\"p\",\"stream\":true}")) {
            assertTrue(sim.await(s -> s.generationTokensTotal() > 0, WAIT));
            long stalled = awaitStable(sim);
            assertTrue(stalled < 1_000_000, "generation should stall while nobody reads, got " + stalled);
            byte[] buf = new byte[1 << 16];
            java.io.InputStream in = raw.socket.getInputStream();
            for (long read = 0, n; read < 8L << 20; read += n) { // enough to take the channel below its low-water mark
                assertTrue((n = in.read(buf)) >= 0, "stream ended early");
            }
            assertTrue(sim.await(s -> s.generationTokensTotal() > stalled, WAIT), "generation resumes once drained");
        }
    }

    /** Waits until the token counter stops moving for a while, and returns where it stopped. */
    private static long awaitStable(VllmSimulator sim) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = sim.generationTokensTotal();
            if (now == last) {
                return now;
            }
            last = now;
            Thread.sleep(300);
        }
        return last;
    }
}
