package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.config.ConfigLoader;
import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload of a listener reaches what depends on it: the compat port that mirrors it (a key revoked
 * on the main port is revoked there too), and trusted-proxies on connections already open.
 */
class CompatReloadTest {
    static final int COMPAT_PORT = CompatListenerTest.freePort();
    static final BlockingQueue<Exchange> exchanges = new LinkedBlockingQueue<>();
    static VllmSimulator sim;
    static SluiceServer server;
    @TempDir
    static Path dir;
    static Path file;

    static String yaml(String keys, String trusted) {
        return """
                listeners:
                  - name: main
                    port: 0
                    host: 127.0.0.1
                    auth: { keys-file: "%s" }
                    trusted-proxies: [ %s ]
                    routes:
                      - { path: /v1/, pool: vllm }
                      - { path: /api/, admin: true }
                pools:
                  vllm:
                    health: { enabled: false }
                    backends: [ { url: "http://127.0.0.1:%d" } ]
                compat: { host: 127.0.0.1, port: %d, pool: vllm, check-interval: 50ms }
                admin: { scrape-interval: 0 }
                """.formatted(dir.resolve(keys), trusted, sim.port(), COMPAT_PORT);
    }

    @BeforeAll
    static void start() throws Exception {
        sim = VllmSimulator.start(SimulatorOptions.defaults());
        Files.writeString(dir.resolve("alice.txt"), "alice sk-alice-0123456789\n");
        Files.writeString(dir.resolve("bob.txt"), "bob sk-bob-0123456789\n");
        file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml("alice.txt", ""));
        server = SluiceServer.start(ConfigLoader.load(file));
        server.addObserver(new ExchangeObserver() {
            @Override
            public void onExchangeEnd(Exchange ex) {
                exchanges.add(ex);
            }
        });
    }

    @AfterAll
    static void stop() {
        server.close();
        sim.close();
    }

    private static void reload(String yaml) throws Exception {
        Files.writeString(file, yaml);
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
