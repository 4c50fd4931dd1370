package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A reload that changes only one pool setting applies it to the next request, pooled connections included. */
class ReloadPoolSettingsTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(100)).build(),  // fast
                    SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(600)).build()) // slow tokens
            .yaml(yaml("", ""))
            .build();
    static SluiceServer server;

    static String yaml(String fastExtra, String slowExtra) {
        return """
                server: { io-threads: 1 }
                listeners:
                  - { name: main, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: fast }, { path: /api/, admin: true } ] }
                  - { name: slow, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: slow } ] }
                pools:
                  fast:
                    health: { enabled: false }
                    backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
                %s
                  slow:
                    health: { enabled: false }
                    backends: [ { url: "http://127.0.0.1:${SIM1}" } ]
                %s
                admin: { scrape-interval: 0 }
                """.formatted(fastExtra, slowExtra);
    }

    @BeforeAll
    static void start() {
        server = sluice.server();
    }

    private static String reload(String fastExtra, String slowExtra) throws Exception {
        sluice.writeConfig(yaml(fastExtra, slowExtra));
        RawHttp.Response r = AdminBackendsTest.call(server.port(), "POST", "/api/v1/config/reload", "");
        assertEquals(200, r.status(), r.body().text());
        assertEquals(0, AdminBackendsTest.json(r).get("needs_restart").size(), r.body().text());
        return AdminBackendsTest.json(r).get("changes").toString();
    }

    @Test
    void aReloadChangingOnlyTheRequestTimeoutAppliesIt() throws Exception {
        try {
            try (RawHttp c = new RawHttp(server.port())) {
                assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 10)).exchange().status());
            }
            String changes = reload("    request-timeout: 300ms", "");
            assertTrue(changes.contains("pool fast settings updated"), changes);
            try (RawHttp c = new RawHttp(server.port())) {
                // Ten tokens take about a second; the reloaded whole-request deadline is 300 ms.
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 10)).exchange();
                assertEquals(504, r.status(), r.body().text());
                assertEquals("request_timeout", r.header("x-sluice-error"));
            }
        } finally {
            reload("", "");
        }
    }

    /** The backend was there before the queue: its releases must wake the queue all the same. */
    @Test
    void aQueueTurnedOnByReloadIsWokenByABackendFromBefore() throws Exception {
        try {
            String changes = reload("    max-in-flight-per-backend: 1\n    queue: { size: 2, timeout: 10s }", "");
            assertTrue(changes.contains("pool fast settings updated"), changes);
            try (RawHttp queued = new RawHttp(server.port())) {
                try (RawHttp holder = new RawHttp(server.port())) {
                    holder.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 100));
                    assertEquals(200, holder.readHead().status());
                    holder.readChunk();
                    queued.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1));
                    Await.until("the second request queued", Duration.ofSeconds(5),
                            () -> server.upstreams().pool("fast").queued() == 1);
                } // the holder leaves: the slot frees
                RawHttp.Response r = queued.exchange();
                assertEquals(200, r.status(), r.body().text());
            }
        } finally {
            reload("", "");
        }
    }

    @Test
    void aReloadedStreamIdleTimeoutAppliesToAConnectionAlreadyPooled() throws Exception {
        int port = server.port("slow");
        try {
            try (RawHttp c = new RawHttp(port)) {
                assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1)).exchange().status());
            }
            long opened = server.upstreams().connections(server.upstreams().pool("slow").backends().get(0)).connectionsOpened();
            String changes = reload("", "    stream-idle-timeout: 200ms");
            assertTrue(changes.contains("pool slow settings updated"), changes);
            try (RawHttp c = new RawHttp(port)) {
                // 600 ms between tokens: longer than the reloaded 200 ms stream-idle timeout.
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3)).exchange();
                assertEquals(200, r.status());
                assertFalse(r.body().complete(), "the stalled stream is cut off: " + r.body().text());
            }
            assertEquals(opened, server.upstreams().connections(server.upstreams().pool("slow").backends().get(0))
                    .connectionsOpened(), "the stream ran on the connection pooled before the reload");
        } finally {
            reload("", "");
        }
    }
}
