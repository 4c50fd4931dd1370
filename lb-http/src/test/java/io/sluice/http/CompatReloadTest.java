package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.observe.Exchange;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reload of a listener reaches what depends on it: the compat port that mirrors it (a key revoked
 * on the main port is revoked there too), and trusted-proxies on connections already open.
 */
class CompatReloadTest {
    static final int COMPAT_PORT = CompatListenerTest.freePort();
    static final BlockingQueue<Exchange> exchanges = new LinkedBlockingQueue<>();
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.defaults())
            .file("alice.txt", "alice sk-alice-0123456789\n")
            .file("bob.txt", "bob sk-bob-0123456789\n")
            .env("COMPAT_PORT", String.valueOf(COMPAT_PORT))
            .observer(exchanges::add)
            .yaml(yaml("alice.txt", ""))
            .build();
    static SluiceServer server;

    static String yaml(String keys, String trusted) {
        return """
                listeners:
                  - name: main
                    port: 0
                    host: 127.0.0.1
                    auth: { keys-file: "${DIR}/%s" }
                    trusted-proxies: [ %s ]
                    routes:
                      - { path: /v1/, pool: vllm }
                      - { path: /api/, admin: true }
                pools:
                  vllm:
                    health: { enabled: false }
                    backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
                compat: { host: 127.0.0.1, port: ${COMPAT_PORT}, pool: vllm, check-interval: 50ms }
                admin: { scrape-interval: 0 }
                """.formatted(keys, trusted);
    }

    @BeforeAll
    static void start() {
        server = sluice.server();
    }

    private static void reload(String yaml) throws Exception {
        sluice.writeConfig(yaml);
        RawHttp.Response r = AdminBackendsTest.call(server.port("main"), "POST", "/api/v1/config/reload", "");
        assertEquals(200, r.status(), r.body().text());
        assertEquals(0, AdminBackendsTest.json(r).get("needs_restart").size(), r.body().text());
    }

    static int models(int port, String... headers) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            return c.get("/v1/models", headers).exchange().status();
        }
    }

    @Test
    void theCompatPortFollowsItsListenersKeysAndTrustFollowsAReload() throws Exception {
        Await.until("compat listener bound", Duration.ofSeconds(20), () -> server.compatBound());
        assertEquals(200, models(COMPAT_PORT, "Authorization: Bearer sk-alice-0123456789"));
        try (RawHttp open = new RawHttp(server.port("main"))) {
            assertEquals(200, open.get("/v1/models", "Authorization: Bearer sk-alice-0123456789",
                    "X-Forwarded-For: 203.0.113.7").exchange().status());
            assertEquals("127.0.0.1", last().clientIp, "nobody is trusted yet");

            reload(yaml("bob.txt", "127.0.0.1"));
            assertEquals(200, open.get("/v1/models", "Authorization: Bearer sk-bob-0123456789",
                    "X-Forwarded-For: 203.0.113.7").exchange().status());
            assertEquals("203.0.113.7", last().clientIp, "the open connection's peer is trusted now");
        }
        assertEquals(401, models(COMPAT_PORT, "Authorization: Bearer sk-alice-0123456789"), "alice's key is gone on both ports");
        assertEquals(200, models(COMPAT_PORT, "Authorization: Bearer sk-bob-0123456789"));
    }

    private static Exchange last() throws InterruptedException {
        Exchange ex = exchanges.poll(5, TimeUnit.SECONDS);
        Exchange next;
        while ((next = exchanges.poll()) != null) {
            ex = next;
        }
        return ex;
    }
}
