package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sluice.core.config.ConfigLoader;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The data path works on every transport the kernel offers. */
class TransportTest {

    /** Native transports listen with one SO_REUSEPORT socket per event loop; every one of them serves. */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void everyListeningSocketServes(String transport) throws Exception {
        assumeAvailable(transport);
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().transport(transport).build());
             SluiceServer sluice = start(transport, 2, 0, sim.port())) {
            assertEquals(transport.equals("nio") ? 1 : 2, sluice.listeningSockets());
            // The kernel spreads connections over the sockets by their addresses: many connections reach both.
            List<RawHttp> open = new ArrayList<>();
            try {
                for (int i = 0; i < 40; i++) {
                    RawHttp c = new RawHttp(sluice.port());
                    open.add(c);
                    assertEquals(200, c.get("/v1/models").exchange().status());
                }
            } finally {
                for (RawHttp c : open) {
                    c.close();
                }
            }
        }
    }

    /** SO_REUSEPORT must not let a second gateway silently share a port that is taken. */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void aPortInUseIsRefused(String transport) throws Exception {
        assumeAvailable(transport);
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().transport(transport).build());
             SluiceServer first = start(transport, 2, 0, sim.port())) {
            BindException e = assertThrows(BindException.class, () -> start(transport, 2, first.port(), sim.port()).close());
            assertTrue(e.getMessage().contains("127.0.0.1:" + first.port()), e.getMessage());
            try (RawHttp c = new RawHttp(first.port())) {
                assertEquals(200, c.get("/v1/models").exchange().status(), "the first one is untouched");
            }
        }
    }

    private static SluiceServer start(String transport, int threads, int port, int backend) throws Exception {
        return SluiceServer.start(ConfigLoader.parse("""
                server: { transport: %s, io-threads: %d }
                listeners: [ { port: %d, host: 127.0.0.1, routes: [ { path: /v1/, pool: p } ] } ]
                pools: { p: { backends: [ { url: "http://127.0.0.1:%d" } ] } }
                """.formatted(transport, threads, port, backend), transport + ".yaml", System::getenv));
    }

    private static void assumeAvailable(String transport) {
        assumeTrue(!transport.equals("epoll") || Epoll.isAvailable(), "epoll unavailable here");
        assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring unavailable here");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void streamsThroughEachTransport(String transport) throws Exception {
        assumeAvailable(transport);
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().transport(transport).build());
             SluiceServer sluice = start(transport, 1, 0, sim.port());
             RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5)).exchange();
            assertEquals(200, r.status());
            List<String> events = r.body().events();
            assertEquals("[DONE]", events.get(events.size() - 1));
            assertEquals(7, events.size()); // role, 5 tokens, [DONE]
        }
    }
}
