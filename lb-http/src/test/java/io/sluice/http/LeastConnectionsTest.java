package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.backend.Backend;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Long-held streams spread evenly, and new work goes where fewer requests are in flight. */
class LeastConnectionsTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm } ]
            pools:
              vllm:
                backends:
                  - url: http://127.0.0.1:${SIM0}
                  - url: http://127.0.0.1:${SIM1}
            """, slow(), slow());

    /** Streams that stay open for minutes unless the test closes them. */
    static SimulatorOptions slow() {
        return SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(10)).itl(Duration.ofSeconds(1))
                .maxTokens(500).build();
    }

    @Test
    void spreadsLongStreamsEvenlyAndSendsNewWorkToTheLessLoadedBackend() throws Exception {
        Backend a = sluice.backend(0);
        Backend b = sluice.backend(1);
        List<RawHttp> onA = new ArrayList<>();
        List<RawHttp> onB = new ArrayList<>();
        try {
            for (int i = 1; i <= 8; i++) {
                int aBefore = a.inFlight();
                RawHttp c = openStream();
                (a.inFlight() > aBefore ? onA : onB).add(c);
                if (i % 2 == 0) {
                    assertEquals(i / 2, a.inFlight(), "after " + i + " streams");
                    assertEquals(i / 2, b.inFlight(), "after " + i + " streams");
                }
            }
            assertEquals(4, sluice.sim(0).running() + sluice.sim(0).waiting());
            assertEquals(4, sluice.sim(1).running() + sluice.sim(1).waiting());

            // Finish three of B's streams: B now has 1 in flight against A's 4.
            for (int i = 0; i < 3; i++) {
                onB.remove(0).close();
            }
            Await.until("B's closed streams released", Duration.ofSeconds(10), () -> b.inFlight() == 1);
            for (int i = 0; i < 3; i++) {
                onB.add(openStream());
                assertEquals(4, a.inFlight(), "new work must go to the less-loaded backend");
            }
            assertEquals(4, b.inFlight());
        } finally {
            for (RawHttp c : onA) {
                c.close();
            }
            for (RawHttp c : onB) {
                c.close();
            }
        }
        Await.until("all streams released", Duration.ofSeconds(10), () -> sluice.totalInFlight() == 0);
    }

    /** Opens a stream and returns once its first token arrived (so the backend has it in flight). */
    private static RawHttp openStream() throws Exception {
        RawHttp c = new RawHttp(sluice.port());
        c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 500));
        assertEquals(200, c.readHead().status());
        c.readChunk();
        return c;
    }
}
