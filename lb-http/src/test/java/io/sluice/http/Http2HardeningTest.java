package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTP/2 clients cannot make Sluice hold unbounded upstream connections, and shutdown says GOAWAY. */
class Http2HardeningTest {

    @Nested
    class Drain {
        @RegisterExtension
        static final SluiceExtension sluice = SluiceExtension.builder()
                .simulators(SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(40)).build())
                .yaml("""
                        server: { shutdown-grace: 20s }
                        listeners: [ { host: 127.0.0.1, port: 0, routes: [ { path: /v1/, pool: p } ] } ]
                        admin: { scrape-interval: 0s }
                        pools: { p: { backends: [ { url: "http://127.0.0.1:${SIM0}" } ] } }
                        """)
                .build();

        @Test
        void drainSendsGoAwayAndLetsOpenStreamsFinish() throws Exception {
            try (H2Client h2 = new H2Client(sluice.port(), 1 << 20)) {
                H2Client.Stream s = h2.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 25));
                CompletableFuture<Void> drained = CompletableFuture.runAsync(sluice::drainAndClose);
                assertTrue(h2.goAway.await(10, TimeUnit.SECONDS), "GOAWAY on drain");
                assertTrue(s.awaitEnd(15), "the open stream finishes");
                assertEquals(200, s.status);
                assertTrue(s.text().contains("[DONE]"), "every token arrived");
                assertTrue(h2.connection().closeFuture().await(10, TimeUnit.SECONDS), "then the connection closes");
                drained.get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Nested
    class UpstreamConnections {
        @RegisterExtension
        static final SluiceExtension sluice = SluiceExtension.builder()
                .simulators(SimulatorOptions.builder().ttft(Duration.ofSeconds(2)).itl(Duration.ofMillis(1)).build())
                .yaml("""
                        listeners:
                          - { host: 127.0.0.1, port: 0, http2: { max-upstream-per-connection: 2 }, routes: [ { path: /v1/, pool: p } ] }
                        admin: { scrape-interval: 0s }
                        pools: { p: { backends: [ { url: "http://127.0.0.1:${SIM0}" } ] } }
                        """)
                .build();

        @Test
        void upstreamConnectionsPerClientConnectionAreBounded() throws Exception {
            VllmSimulator sim = sluice.sim(0);
            try (H2Client h2 = new H2Client(sluice.port(), 1 << 20)) {
                H2Client.Stream a = h2.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2));
                H2Client.Stream b = h2.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2));
                Await.until("two streams at the backend", Duration.ofSeconds(10), () -> sim.running() == 2);
                H2Client.Stream c = h2.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2));
                assertTrue(c.awaitEnd(5), "refused at once");
                assertEquals(503, c.status);
                assertTrue(a.awaitEnd(10) && b.awaitEnd(10));
                assertEquals(200, a.status);
                assertEquals(200, b.status);
                // Slots are given back: a later stream is served.
                H2Client.Stream d = h2.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2));
                assertTrue(d.awaitEnd(10));
                assertEquals(200, d.status);
            }
        }
    }

    @Nested
    class Reset {
        @RegisterExtension
        static final SluiceExtension sluice = SluiceExtension.builder()
                .backend("REC", RecordingBackend::new, RecordingBackend::port)
                .yaml("""
                        listeners: [ { host: 127.0.0.1, port: 0, routes: [ { path: /v1/, pool: p } ] } ]
                        admin: { scrape-interval: 0s }
                        pools: { p: { health: { enabled: false }, backends: [ { url: "http://127.0.0.1:${REC}" } ] } }
                        """)
                .build();

        /**
         * A regression guard rather than a fix: Netty's multiplexer already drops the frames of a stream
         * reset in the same read as its request (this passed before the hardening too).
         */
        @Test
        void aStreamResetWithItsRequestNeverReachesTheBackend() throws Exception {
            RecordingBackend backend = sluice.backend("REC");
            try (H2Client h2 = new H2Client(sluice.port(), 1 << 20)) {
                // Warm a pooled upstream connection, so a request would go out at once.
                H2Client.Stream warm = h2.post("/v1/echo", "{\"x\":1}");
                assertTrue(warm.awaitEnd(10));
                int before = backend.recorded().size();
                for (int i = 0; i < 20; i++) {
                    h2.postAndReset("/v1/echo", "{\"reset\":" + i + "}");
                }
                H2Client.Stream after = h2.post("/v1/echo", "{\"x\":2}");
                assertTrue(after.awaitEnd(10));
                assertEquals(before + 1, backend.recorded().size(), "only the request after the resets was sent");
            }
        }
    }
}
