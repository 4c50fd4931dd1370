package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.observe.Exchange;
import io.sluice.http.server.Reloader;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import java.nio.file.Files;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The test extension itself: a fresh world per method, variables that survive a reload, observers. */
class SluiceExtensionTest {
    static final BlockingQueue<Exchange> exchanges = new LinkedBlockingQueue<>();
    static final Set<SluiceServer> seen = ConcurrentHashMap.newKeySet();

    static String yaml(String auth) {
        return """
                listeners:
                  - host: 127.0.0.1
                    port: 0
                %s
                    routes: [ { path: "${ROUTE}", pool: p }, { path: /api/, admin: true } ]
                pools: { p: { health: { enabled: false }, backends: [ { url: "http://127.0.0.1:${SIM0}" } ] } }
                admin: { scrape-interval: 0 }
                """.formatted(auth);
    }

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.defaults())
            .env("ROUTE", "/v1/")
            .file("keys.txt", "alice sk-alice-0123456789\n")
            .observer(exchanges::add)
            .perMethod()
            .yaml(yaml(""))
            .build();

    @RepeatedTest(2)
    void eachMethodGetsItsOwnSluiceSimulatorAndDirectory() throws Exception {
        exchanges.clear(); // the earlier methods' servers are closed: nothing more comes from them
        assertTrue(seen.add(sluice.server()), "a server from an earlier method");
        assertEquals(0, sluice.sim(0).requestsTotal(), "a simulator from an earlier method");
        assertTrue(Files.readString(sluice.configFile()).contains("http://127.0.0.1:" + sluice.sim(0).port()));
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1)).exchange().status());
        }
        assertEquals(1, sluice.sim(0).requestsTotal());
        Exchange ex = exchanges.poll(5, TimeUnit.SECONDS);
        assertEquals(sluice.uri("/v1/chat/completions").getPath(), ex.path, "the observer sees this server's exchange");
    }

    @Test
    void aReloadedFileResolvesTheSameVariables() throws Exception {
        Reloader.Result r = sluice.reload(yaml("    auth: { keys-file: \"${DIR}/keys.txt\" }"));
        assertEquals(0, r.needsRestart().size(), r.toString());
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(401, c.get("/v1/models").exchange().status());
            assertEquals(200, c.get("/v1/models", "Authorization: Bearer sk-alice-0123456789").exchange().status());
        }
    }

    @Test
    void onlyItsOwnVariablesAreSubstituted() {
        assertEquals("/v1/ /v1/ $${ROUTE} ${NOT_OURS} ${NOT_OURS:-x} " + sluice.dir() + "/keys.txt",
                sluice.substitute("${ROUTE} ${ROUTE:-/other/} $${ROUTE} ${NOT_OURS} ${NOT_OURS:-x} ${DIR}/keys.txt"));
    }
}
