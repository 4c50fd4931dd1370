package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Quiet keep-alive connections are stripped to a dormant pipeline and wake up on their next request. */
class DormantConnectionTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { name: main, port: 0, host: 127.0.0.1, idle-timeout: 60s, routes: [ { path: /v1/, pool: vllm } ] }
              - { name: short, port: 0, host: 127.0.0.1, idle-timeout: 4s, routes: [ { path: /v1/, pool: vllm } ] }
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            """, SimulatorOptions.builder().ttft(Duration.ofMillis(1)).itl(Duration.ofMillis(1)).build());

    @Test
    void aQuietConnectionSleepsAndServesItsNextRequests() throws Exception {
        int port = sluice.server().port("main");
        try (RawHttp c = new RawHttp(port)) {
            assertEquals(200, c.get("/v1/models").exchange().status());
            Await.until("the quiet connection to go dormant", Duration.ofSeconds(10),
                    () -> sluice.server().dormantConnections() == 1);
            // The request that wakes it arrives in two reads: the dormant handler must pass both on.
            c.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + RawHttp.chatBody("demo", true, 3).length() + "\r\n");
            Thread.sleep(50); // let the first part be read on its own (either way the test must pass)
            c.sendRaw("\r\n" + RawHttp.chatBody("demo", true, 3));
            RawHttp.Response r = c.exchange();
            assertEquals(200, r.status());
            List<String> events = r.body().events();
            assertEquals("[DONE]", events.get(events.size() - 1));
            assertEquals(0, sluice.server().dormantConnections());
            // And it sleeps again, and wakes again.
            Await.until("dormant again", Duration.ofSeconds(10), () -> sluice.server().dormantConnections() == 1);
            assertEquals(200, c.get("/v1/models").exchange().status());
        }
    }

    /** The dormant stand-in gets the idle handler's own events: the idle timeout still closes the connection. */
    @Test
    void aDormantConnectionIsClosedAtItsIdleTimeout() throws Exception {
        try (RawHttp c = new RawHttp(sluice.server().port("short"))) {
            assertEquals(200, c.get("/v1/models").exchange().status());
            Await.until("the quiet connection to go dormant", Duration.ofSeconds(10),
                    () -> sluice.server().dormantConnections() == 1);
            c.socket.setSoTimeout(15_000);
            assertEquals(-1, c.socket.getInputStream().read(), "closed by the 4 s idle timeout while dormant");
        }
    }

    @Test
    void aConnectionInTheMiddleOfARequestHeadIsNotPutToSleep() throws Exception {
        int port = sluice.server().port("main");
        try (RawHttp c = new RawHttp(port)) {
            assertEquals(200, c.get("/v1/models").exchange().status());
            c.sendRaw("GET /v1/models HTTP/1.1\r\nHo"); // a head begun, then a pause longer than the quiet period
            Thread.sleep(2500); // over twice the longest wait for dormancy (1 s): a negative, so no event to wait for
            assertEquals(0, sluice.server().dormantConnections());
            c.sendRaw("st: x\r\n\r\n");
            assertEquals(200, c.exchange().status());
        }
    }
}
