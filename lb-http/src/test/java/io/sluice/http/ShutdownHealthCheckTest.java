package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.ConfigLoader;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Closing a gateway while health checks run every 10 ms: close() returns with no check in flight,
 * and no check's buffers leak on a loop being shut down (the leak extension fails the class if one
 * does; .ci/run once flaked on exactly that in TransportTest with io_uring).
 */
class ShutdownHealthCheckTest {

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void closeWaitsForTheChecksInProgressAndLeaksNothing(String transport) throws Exception {
        assumeTrue(!transport.equals("epoll") || Epoll.isAvailable(), "epoll unavailable here");
        assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring unavailable here");
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().transport(transport).build())) {
            for (int round = 0; round < 15; round++) {
                SluiceServer server = SluiceServer.start(ConfigLoader.parse("""
                        server: { transport: %s, io-threads: 2 }
                        listeners: [ { port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: p } ] } ]
                        pools: { p: { health: { interval: 10ms, timeout: 9ms }, backends: [ { url: "http://127.0.0.1:%d" } ] } }
                        admin: { scrape-interval: 0 }
                        """.formatted(transport, sim.port()), transport + ".yaml", System::getenv));
                Backend b = server.upstreams().pool("p").backends().get(0);
                long after = System.currentTimeMillis() + 20 * (round % 3);
                try {
                    // A few checks have run, so the close below lands among them.
                    Await.until("health checks running", Duration.ofSeconds(10),
                            () -> b.lastHealth() != null && b.lastHealth().atMillis() > after);
                } finally {
                    server.close();
                }
                assertEquals(0, server.healthChecksAtLoopShutdown(), "round " + round + ": a check was in flight as the loops shut down");
                assertEquals(0, server.healthChecksInProgress(), "round " + round + ": close() returned with a check in flight");
            }
        }
    }
}
