package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.sim.SimulatorOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTP/2 downstream (h2c prior knowledge here; over TLS in TlsTest): streams, per-stream backpressure, resets. */
class Http2Test {
    static final int ITL_MS = 20;

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                http2: { max-concurrent-streams: 100 }
                routes:
                  - { path: /v1/, pool: vllm }
                  - { path: /api/, admin: true }
            pools:
              vllm:
                backends:
                  - url: http://127.0.0.1:${SIM0}
            """,
            SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(10)).itl(Duration.ofMillis(ITL_MS))
                    .maxTokens(100_000).maxNumSeqs(256).build());

    @Test
    void h2cPriorKnowledgeAndHttp11OnTheSamePort() throws Exception {
        assumeTrue(TestTls.available("curl"), "curl not installed");
        for (String v : List.of("--http2-prior-knowledge", "--http1.1")) {
            TestTls.Result r = TestTls.run(List.of("curl", "-s", v, "-w", "\n%{http_version} %{http_code}",
                    "-H", "content-type: application/json", "-d", RawHttp.chatBody("demo", true, 3),
                    "http://127.0.0.1:" + sluice.port() + "/v1/chat/completions"), Duration.ofSeconds(30));
            assertTrue(r.out().trim().endsWith(v.startsWith("--http2") ? "2 200" : "1.1 200"), r.out());
            assertTrue(r.out().contains("data: [DONE]"), r.out());
        }
        TestTls.Result r = TestTls.run(List.of("curl", "-s", "--http2-prior-knowledge", "-w", "\n%{http_code}",
                "http://127.0.0.1:" + sluice.port() + "/nothing"), Duration.ofSeconds(30));
        assertTrue(r.out().contains("route_not_found") && r.out().trim().endsWith("404"), r.out());
    }

    @Test
    void pausedStreamDoesNotStallTheOther() throws Exception {
        int tokens = 150;
        try (H2Client c = new H2Client(sluice.port(), 4096)) {
            H2Client.Stream paused = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 2000));
            Await.until("the first events of the paused stream", Duration.ofSeconds(20), () -> paused.events() >= 2);
            paused.pause();
            long pausedAt = paused.text().length();
            H2Client.Stream active = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, tokens));
            assertTrue(active.awaitEnd(60), "active stream did not finish: " + active.events() + " events");
            assertEquals(200, active.status);
            assertTrue(active.text().trim().endsWith("data: [DONE]"));
            // Tokens arrived as produced, not in a burst after a stall: spread over at least half the generation time.
            List<Long> t = active.nanos;
            long spreadMs = (t.get(t.size() - 1) - t.get(0)) / 1_000_000;
            assertTrue(spreadMs >= (tokens - 1) * ITL_MS / 2, "active stream arrived within " + spreadMs + " ms");
            // The paused stream held no more than its window while the other one ran (~3 s of its tokens).
            long pausedBytes = paused.text().length() - pausedAt;
            assertTrue(pausedBytes <= 4096 + 1024, "paused stream received " + pausedBytes + " bytes while paused");
            assertTrue(paused.ended.getCount() == 1, "paused stream must not have ended");
            System.out.printf("paused/active: active %d events over %d ms (generation >= %d ms); paused stream got %d bytes while paused%n",
                    active.events(), spreadMs, (tokens - 1) * ITL_MS, pausedBytes);
            long before = paused.events();
            paused.resume();
            Await.until("the resumed stream moves again", Duration.ofSeconds(20), () -> paused.events() > before + 10);
            paused.reset();
        }
    }

    @Test
    void clientResetAbortsTheUpstreamRequest() throws Exception {
        long abortedBefore = sluice.sim(0).aborted();
        try (H2Client c = new H2Client(sluice.port(), 65535)) {
            H2Client.Stream s = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5000));
            Await.until("some events", Duration.ofSeconds(20), () -> s.events() >= 3);
            s.reset();
            assertTrue(sluice.sim(0).awaitAborted(abortedBefore + 1, Duration.ofSeconds(20)), "the generation was not aborted");
            Await.until("the lease is released", Duration.ofSeconds(20), () -> sluice.totalInFlight() == 0);
            // The connection survives a stream reset: another stream on it works.
            H2Client.Stream next = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3));
            assertTrue(next.awaitEnd(30));
            assertEquals(200, next.status);
        }
    }

    @Test
    void manyStreamsOnOneConnectionWithH2load() throws Exception {
        assumeTrue(TestTls.available("h2load"), "h2load (nghttp2-client) not installed; bin/test installs it");
        Path body = Files.createTempFile("sluice-h2load", ".json");
        Files.writeString(body, RawHttp.chatBody("demo", false, 4));
        TestTls.Result r = TestTls.run(List.of("h2load", "-n", "400", "-c", "1", "-m", "50",
                "-d", body.toString(), "-H", "content-type: application/json",
                "http://127.0.0.1:" + sluice.port() + "/v1/chat/completions"), Duration.ofSeconds(120));
        Files.deleteIfExists(body);
        assertTrue(r.out().contains("400 succeeded"), r.out());
        assertTrue(r.out().contains("400 2xx"), r.out());
        System.out.println("h2load, 1 connection, 50 concurrent streams:\n" + r.out());
    }
}
