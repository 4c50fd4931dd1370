package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Draining for shutdown closes a dormant keep-alive connection at once, while a stream in progress
 * still has its grace period.
 */
class DormantShutdownTest {
    @RegisterExtension
    final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.builder().ttft(Duration.ofMillis(1)).itl(Duration.ofMillis(50)).maxTokens(1000).build())
            .perMethod()
            .yaml("""
                    server: { shutdown-grace: 30s }
                    listeners:
                      - { name: main, port: 0, host: 127.0.0.1, idle-timeout: 60s, routes: [ { path: /v1/, pool: vllm } ] }
                    pools:
                      vllm:
                        backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
                    """)
            .build();

    @Test
    void drainingClosesADormantConnection() throws Exception {
        int port = sluice.server().port("main");
        try (RawHttp dormant = new RawHttp(port); RawHttp streaming = new RawHttp(port)) {
            assertEquals(200, dormant.get("/v1/models").exchange().status());
            Await.until("the quiet connection to go dormant", Duration.ofSeconds(10),
                    () -> sluice.server().dormantConnections() == 1);
            // A stream of 50 s keeps the drain waiting (up to the 30 s grace) after the dormant connection is gone.
            streaming.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 1000));
            assertEquals(200, streaming.readHead().status());
            long start = System.nanoTime();
            dormant.socket.setSoTimeout(20_000);
            Thread drain = new Thread(sluice::drainAndClose, "drain");
            drain.start();
            assertEquals(-1, dormant.socket.getInputStream().read(), "the dormant connection is closed by the drain");
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(20).toNanos(), "not after the 30 s grace");
            streaming.socket.close(); // the stream ends: the drain is over
            drain.join(40_000);
        }
    }
}
