package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sluice.core.config.ConfigLoader;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The data path works on every transport the kernel offers. */
class TransportTest {

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void streamsThroughEachTransport(String transport) throws Exception {
        assumeTrue(!transport.equals("epoll") || Epoll.isAvailable(), "epoll unavailable here");
        assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring unavailable here");
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().transport(transport).build());
             SluiceServer sluice = SluiceServer.start(ConfigLoader.parse("""
                     server: { transport: %s, io-threads: 1 }
                     listeners: [ { port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: p } ] } ]
                     pools: { p: { backends: [ { url: "http://127.0.0.1:%d" } ] } }
                     """.formatted(transport, sim.port()), transport + ".yaml", System::getenv));
             RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5)).exchange();
            assertEquals(200, r.status());
            List<String> events = r.body().events();
            assertEquals("[DONE]", events.get(events.size() - 1));
            assertEquals(7, events.size()); // role, 5 tokens, [DONE]
        }
    }
}
