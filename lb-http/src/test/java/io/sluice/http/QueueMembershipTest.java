package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A backend added at run time wakes the pool's queued requests like one from the config. */
class QueueMembershipTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: full }, { path: /api/, admin: true } ]
            pools:
              full:
                max-in-flight-per-backend: 1
                queue: { size: 4, timeout: 10s }
                health: { enabled: false }
                backends: [ { url: "http://127.0.0.1:${SIM0}", name: a } ]
            admin: { scrape-interval: 0 }
            """,
            SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(40)).maxTokens(5000).build(),
            SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(40)).maxTokens(5000).build());

    private static BackendPool pool() {
        return sluice.server().upstreams().pool("full");
    }

    @Test
    void aQueuedRequestIsServedWhenABackendAddedByTheAdminApiFreesItsSlot() throws Exception {
        int port = sluice.port();
        try (RawHttp onA = new RawHttp(port); RawHttp queued = new RawHttp(port)) {
            onA.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5000));
            assertEquals(200, onA.readHead().status());
            onA.readChunk(); // a's one slot is taken for the rest of the test

            RawHttp.Response added = AdminBackendsTest.call(port, "POST", "/api/v1/backends",
                    "{\"pool\":\"full\",\"url\":\"http://127.0.0.1:" + sluice.sim(1).port() + "\",\"name\":\"b\"}");
            assertEquals(201, added.status(), added.body().text());
            Backend b = pool().backends().stream().filter(x -> x.id().equals("b")).findFirst().orElseThrow();

            try (RawHttp onB = new RawHttp(port)) {
                onB.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5000));
                assertEquals(200, onB.readHead().status());
                onB.readChunk();
                assertEquals(1, b.inFlight(), "the second stream runs on the new backend");

                queued.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2));
                Await.until("the third request queued", Duration.ofSeconds(5), () -> pool().queued() == 1);
            } // the client leaves: b's slot frees, and only b's release listener can wake the queued request

            RawHttp.Response r = queued.exchange();
            assertEquals(200, r.status(), r.body().text());
            assertEquals(0, pool().queued());
        }
        Await.until("nothing left in flight", Duration.ofSeconds(10), () -> sluice.totalInFlight() == 0);
    }

    @Test
    void membershipChangesOnlyThroughThePool() {
        assertThrows(UnsupportedOperationException.class, () -> pool().backends().add(new Backend("x", "full", "127.0.0.1", 1, 1)));
    }
}
