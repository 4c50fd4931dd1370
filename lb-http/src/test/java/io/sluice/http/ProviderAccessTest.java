package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.provider.ProviderSimulator;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A server-side provider key is not an open relay: provider routes need Sluice's own API keys, and
 * what each key used is counted per provider, from the usage the provider reported, also for a stream
 * the client left.
 */
class ProviderAccessTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .file("keys.txt", "team-a sk-team-a-0123456789\nteam-b sk-team-b-0123456789\n")
            .yaml("""
                    listeners:
                      - name: public
                        host: 127.0.0.1
                        port: 0
                        auth: { keys-file: "${DIR}/keys.txt" }
                        routes:
                          - { path: /api/chat, gateway: chat }
                          - { path: /v1/messages, gateway: messages }
                          - { path: /api/openai/, provider: openai }
                      - name: admin
                        host: 127.0.0.1
                        port: 0
                        routes: [ { path: /metrics, admin: true } ]
                    providers:
                      openai: { simulator: { ttft: 5ms, itl: 2ms } }
                      anthropic: { simulator: { ttft: 5ms, itl: 100ms } }
                    """)
            .build();

    static ProviderSimulator sim(int i) {
        return sluice.server().providerSimulators().get(i);
    }

    static RawHttp.Response post(String path, String body, String... headers) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port("public"))) {
            return c.post(path, body, headers).exchange();
        }
    }

    static String metrics() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port("admin"))) {
            return c.get("/metrics").exchange().body().text();
        }
    }

    @Test
    void withoutASluiceKeyNoProviderIsCalled() throws Exception {
        long before = sim(0).requests();
        assertEquals(401, post("/api/chat", "{\"provider\":\"openai\",\"model\":\"m\",\"messages\":[]}").status());
        assertEquals(401, post("/api/openai/chat/completions", "{\"model\":\"m\",\"messages\":[]}",
                "Authorization: Bearer sk-someone-elses-openai-key").status());
        assertEquals(401, post("/v1/messages", "{\"model\":\"openai/m\",\"max_tokens\":5,\"messages\":[]}").status());
        assertEquals(before, sim(0).requests());
    }

    @Test
    void usageIsCountedPerProviderAndKey() throws Exception {
        RawHttp.Response r = post("/v1/messages", "{\"model\":\"openai/m\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}]}",
                "Authorization: Bearer sk-team-a-0123456789");
        assertEquals(200, r.status(), r.body().text());
        String m = metrics();
        assertTrue(m.contains("sluice_provider_tokens_total{key=\"team-a\",provider=\"openai\",type=\"completion\"} 5"), m);
        assertTrue(m.contains("sluice_provider_tokens_total{key=\"team-a\",provider=\"openai\",type=\"prompt\"} 3"), m);
        assertTrue(m.contains("sluice_provider_requests_total{key=\"team-a\",provider=\"openai\",status=\"200\"}"), m);
    }

    @Test
    void aStreamTheClientLeftStillCounts() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port("public"))) {
            c.post("/api/chat", "{\"provider\":\"anthropic\",\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                    "Authorization: Bearer sk-team-b-0123456789");
            InputStream in = c.socket.getInputStream();
            byte[] buf = new byte[4096];
            String seen = "";
            while (!seen.contains("\"content\":\"Hello\"")) {
                int n = in.read(buf);
                assertTrue(n > 0, seen);
                seen += new String(buf, 0, n, StandardCharsets.UTF_8);
            }
        }
        assertTrue(sim(1).await(s -> s.cancelled() > 0, Duration.ofSeconds(10)));
        Await.until("the cut stream's tokens in the metrics", Duration.ofSeconds(10), () -> {
            try {
                return metrics().contains("sluice_provider_tokens_total{key=\"team-b\",provider=\"anthropic\",type=\"completion\"}");
            } catch (Exception e) {
                return false;
            }
        });
    }
}
