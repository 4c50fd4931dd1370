package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.core.backend.Backend;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Upstream failures become the right gateway errors: 502 on a dead backend, 503 with none healthy, 504 on silence. */
class FailureTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int DEAD_PORT_1 = FreePorts.refusing();
    static final int DEAD_PORT_2 = FreePorts.refusing();
    static final int DEAD_PORT_3 = FreePorts.refusing();

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { name: main, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: main } ] }
              - { name: dead, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: dead } ] }
              - { name: slow, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: slow } ] }
              - { name: lone, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: lone } ] }
            pools:
              main:
                health: { interval: 1h, timeout: 1s }   # passive detection is what is tested here
                retries: { attempts: 0 }                # so that the 502 reaches the client
                backends:
                  - url: http://127.0.0.1:${SIM0}
                  - url: http://127.0.0.1:${SIM1}
              dead:
                health: { interval: 100ms, timeout: 50ms, fall: 1 }
                backends:
                  - url: http://127.0.0.1:%d
                  - url: http://127.0.0.1:%d
              lone:
                health: { interval: 1h, timeout: 1s }
                backends: [ { url: "http://127.0.0.1:%d" } ]
              slow:
                response-timeout: 300ms
                backends: [ { url: "http://127.0.0.1:${SIM2}" } ]
            admin: { scrape-interval: 0 }   # no background scrapes: /v1/models stays a proxied request
            """.formatted(DEAD_PORT_1, DEAD_PORT_2, DEAD_PORT_3),
            SimulatorOptions.builder().build(),
            SimulatorOptions.builder().build(),
            SimulatorOptions.builder().ttft(Duration.ofSeconds(30)).build());

    static int freePort() {
        return FreePorts.next();
    }

    @Test
    void noHealthyBackendAnswers503AtOnce() throws Exception {
        int port = sluice.server().port("dead");
        Await.until("health checks mark both dead backends down", Duration.ofSeconds(10),
                () -> sluice.server().upstreams().pool("dead").healthyCount() == 0);
        try (RawHttp c = new RawHttp(port)) {
            long t0 = System.nanoTime();
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(503, r.status());
            assertEquals("no_healthy_backend", r.header("x-sluice-error"));
            JsonNode err = JSON.readTree(r.body().text()).get("error");
            assertTrue(err.get("message").asText().contains("dead"), err.toString());
            assertEquals("gateway_error", err.get("type").asText());
            System.out.println("503 with no healthy backend answered in " + ms + " ms");
            // and the connection stays usable
            assertEquals(503, c.get("/v1/models").exchange().status());
        }
    }

    @Test
    void aLoneBackendRefusingIsReportedAsTheConnectFailureItIs() throws Exception {
        try (RawHttp c = new RawHttp(sluice.server().port("lone"))) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange();
            assertEquals(502, r.status(), r.body().text());
            assertEquals("upstream_connect_failed", r.header("x-sluice-error"),
                    "nothing else to retry on: the client hears what happened, not 'no healthy backend'");
            // Ejected by the failure: the next request is told so at once.
            RawHttp.Response next = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange();
            assertEquals(503, next.status());
            assertEquals("no_healthy_backend", next.header("x-sluice-error"));
        }
    }

    @Test
    void killedBackendGives502ThenLeavesRotation() throws Exception {
        int port = sluice.server().port("main");
        try (RawHttp c = new RawHttp(port)) {
            for (int i = 0; i < 4; i++) { // warm both backends' pooled connections
                assertEquals(200, c.get("/v1/models").exchange().status());
            }
        }
        Backend killed = sluice.backend(1);
        sluice.sim(1).close();
        boolean saw502 = false;
        for (int i = 0; i < 40 && !saw502; i++) {
            try (RawHttp c = new RawHttp(port)) {
                RawHttp.Response r = c.get("/v1/models").exchange();
                if (r.status() == 502) {
                    saw502 = true;
                    assertTrue(r.header("x-sluice-error").startsWith("upstream_"), r.header("x-sluice-error"));
                } else {
                    assertEquals(200, r.status());
                }
            }
        }
        assertTrue(saw502, "no request reached the killed backend");
        assertEquals(Backend.State.UNHEALTHY, killed.state(), "a refused connection must eject the backend at once");
        for (int i = 0; i < 20; i++) {
            try (RawHttp c = new RawHttp(port)) {
                assertEquals(200, c.get("/v1/models").exchange().status(), "request " + i + " after ejection");
            }
        }
    }

    @Test
    void silentBackendGives504AfterTheResponseTimeout() throws Exception {
        long abortedBefore = sluice.sim(2).aborted();
        try (RawHttp c = new RawHttp(sluice.server().port("slow"))) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange();
            assertEquals(504, r.status());
            assertEquals("upstream_timeout", r.header("x-sluice-error"));
        }
        // The abandoned request is aborted upstream too, not left generating.
        assertTrue(sluice.sim(2).awaitAborted(abortedBefore + 1, Duration.ofSeconds(5)));
        Await.until("in-flight back to zero", Duration.ofSeconds(5), () -> sluice.totalInFlight() == 0);
    }
}
