package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import java.nio.file.Files;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reload applies everything of a listener but its socket, live: keys (also a route's own
 * {@code auth:}), limits and CORS for the next request, on connections already open, and TLS
 * certificates for the next handshake.
 */
class ListenerReloadTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.defaults())
            .files(dir -> TestTls.writePair(dir, "one", "localhost"))
            .file("keys.txt", "alice sk-alice-0123456789\n")
            .yaml(yaml("", "", "one"))
            .build();
    static SluiceServer server;

    static String yaml(String mainExtra, String routeExtra, String cert) {
        return """
                listeners:
                  - name: main
                    port: 0
                    host: 127.0.0.1
                %s
                    routes:
                      - { path: /v1/, pool: vllm %s }
                      - { path: /api/, admin: true }
                  - name: tls
                    port: 0
                    host: 127.0.0.1
                    tls: { certificates: [ { cert: "${DIR}/%s.crt", key: "${DIR}/%s.key" } ] }
                    routes: [ { path: /v1/, pool: vllm } ]
                pools:
                  vllm:
                    backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
                admin: { scrape-interval: 0 }
                """.formatted(mainExtra, routeExtra, cert, cert);
    }

    @BeforeAll
    static void start() {
        server = sluice.server();
    }

    private static JsonNode reload(String yaml) throws Exception {
        sluice.writeConfig(yaml);
        RawHttp.Response r = AdminBackendsTest.call(server.port("main"), "POST", "/api/v1/config/reload", "");
        assertEquals(200, r.status(), r.body().text());
        return AdminBackendsTest.json(r);
    }

    @Test
    void keysLimitsAndCertificatesApplyWithoutRestart() throws Exception {
        try (RawHttp open = new RawHttp(server.port("main"))) {
            assertEquals(200, open.get("/v1/models").exchange().status());

            JsonNode r = reload(yaml("    auth: { keys-file: \"${DIR}/keys.txt\" }\n"
                    + "    max-request-body: 1KiB\n", "", "one"));
            assertEquals(0, r.get("needs_restart").size(), r.toString());
            // The same keep-alive connection now needs a key, and the new body limit holds.
            RawHttp.Response noKey = open.get("/v1/models").exchange();
            assertEquals(401, noKey.status());
            assertEquals(200, open.get("/v1/models", "Authorization: Bearer sk-alice-0123456789").exchange().status());
            RawHttp.Response big = open.post("/v1/chat/completions", "{\"x\":\"" + "a".repeat(2000) + "\"}",
                    "Authorization: Bearer sk-alice-0123456789").exchange();
            assertEquals(413, big.status());
        }
        // A route's own auth added by reload is enforced too.
        Files.writeString(sluice.file("route-keys.txt"), "bob sk-bob-0123456789\n");
        reload(yaml("", ", auth: { keys-file: \"${DIR}/route-keys.txt\" }", "one"));
        try (RawHttp c = new RawHttp(server.port("main"))) {
            assertEquals(401, c.get("/v1/models").exchange().status());
            assertEquals(200, c.get("/v1/models", "Authorization: Bearer sk-bob-0123456789").exchange().status());
        }
        // New certificate files: the next handshake presents the new certificate.
        X509Certificate two = TestTls.writePair(sluice.dir(), "two", "localhost");
        JsonNode r = reload(yaml("", "", "two"));
        assertEquals(0, r.get("needs_restart").size(), r.toString());
        assertEquals(two.getSerialNumber(), TestTls.handshake(server.port("tls"), "localhost").getSerialNumber());
    }

    @Test
    void onlyTheSocketNeedsARestart() throws Exception {
        String moved = yaml("", "", "one").replaceFirst("port: 0", "port: 1");
        JsonNode r = reload(moved);
        assertTrue(r.get("needs_restart").toString().contains("address changed"), r.toString());
        reload(yaml("", "", "one"));
    }
}
