package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The server-wide connection limit counts every listener together. */
class TotalConnectionsTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            server: { max-connections: 3 }
            listeners:
              - { name: a, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: vllm } ] }
              - { name: b, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: vllm } ] }
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            """, SimulatorOptions.builder().build());

    @Test
    void aConnectionOverTheTotalIsRefusedWhicheverListenerItComesTo() throws Exception {
        List<RawHttp> open = new ArrayList<>();
        try {
            for (String listener : List.of("a", "a", "b")) {
                RawHttp c = new RawHttp(sluice.server().port(listener));
                assertEquals(200, c.get("/v1/models").exchange().status());
                open.add(c);
            }
            try (RawHttp extra = new RawHttp(sluice.server().port("b"))) {
                int read;
                try {
                    extra.get("/v1/models");
                    read = extra.socket.getInputStream().read();
                } catch (IOException reset) {
                    read = -1;
                }
                assertEquals(-1, read, "a 4th connection in total must be refused");
            }
            for (RawHttp c : open) {
                assertEquals(200, c.get("/v1/models").exchange().status(), "open connections are not touched");
            }
        } finally {
            for (RawHttp c : open) {
                c.close();
            }
        }
    }
}
