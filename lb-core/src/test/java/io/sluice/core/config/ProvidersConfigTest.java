package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.provider.WireFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code providers:}, {@code model-groups:} and the provider and gateway routes: parsing and located errors. */
class ProvidersConfigTest {
    private static final String BASE = """
            listeners:
              - port: 8000
                routes:
                  - { path: /v1/messages, gateway: messages }
                  - { path: /v1/, pool: vllm }
                  - { path: /api/chat, gateway: chat }
                  - { path: /api/openai/, provider: openai }
                  - { path: /api/ollama/, provider: ollama }
                  - { path: /api/, admin: true }
            pools:
              vllm:
                models: [demo]
                backends: [ { url: "http://127.0.0.1:8001" } ]
            providers:
              openai: { base-url: "https://api.openai.com/v1", api-key: "${OPENAI_API_KEY:-}" }
              anthropic: { base-url: "https://api.anthropic.com", api-key: sk-ant-secret }
              gemini: { base-url: "http://127.0.0.1:9000/", api-key: g-secret }
              ollama: { base-url: "http://localhost:11434" }
              vllm: { pool: vllm }
              mine: { format: anthropic, simulator: { api-key: demo } }
            model-groups:
              fast:
                - { provider: vllm, model: demo }
                - { provider: openai, model: gpt-4o-mini }
            """;

    private static SluiceConfig parse(String yaml, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse(yaml, "test.yaml", env::get);
    }

    @Test
    void providersTheirPoolsAndRoutes() throws Exception {
        SluiceConfig c = parse(BASE, Map.of("OPENAI_API_KEY", "sk-openai-secret"));
        ProviderConfig openai = c.providers().get("openai");
        assertEquals(WireFormat.OPENAI, openai.format());
        assertEquals("/v1", openai.basePath());
        assertEquals("@openai", openai.pool());
        assertTrue(openai.configured());
        PoolConfig pool = c.pools().get("@openai");
        assertEquals("api.openai.com", pool.backends().get(0).host());
        assertEquals(443, pool.backends().get(0).port());
        assertTrue(pool.backends().get(0).tls());
        assertFalse(pool.health().enabled(), "a provider has no /health");
        assertFalse(pool.outlier().enabled());
        assertEquals(PoolConfig.HOST_BACKEND, pool.hostHeader());

        assertEquals("", c.providers().get("gemini").basePath(), "a trailing slash is no path");
        assertEquals(WireFormat.OLLAMA, c.providers().get("ollama").format());
        assertTrue(c.providers().get("ollama").configured(), "a local provider needs no key");
        assertEquals("2023-06-01", c.providers().get("anthropic").version());
        ProviderConfig vllm = c.providers().get("vllm");
        assertEquals("vllm", vllm.pool());
        assertFalse(vllm.ownPool());
        ProviderConfig mine = c.providers().get("mine");
        assertEquals(WireFormat.ANTHROPIC, mine.format());
        assertEquals("demo", mine.apiKey(), "a simulated provider is called with the simulator's key");
        assertEquals("127.0.0.1", c.pools().get("@mine").backends().get(0).host());

        List<RouteConfig> routes = c.listeners().get(0).routes();
        RouteConfig chat = routes.stream().filter(r -> r.pathPrefix().equals("/api/chat")).findFirst().orElseThrow();
        assertEquals(RouteConfig.GATEWAY_CHAT, chat.gateway());
        assertNull(chat.pool());
        RouteConfig pass = routes.stream().filter(r -> r.pathPrefix().equals("/api/openai/")).findFirst().orElseThrow();
        assertEquals("openai", pass.provider());
        assertEquals("@openai", pass.pool());
        assertEquals("/v1/chat/completions?x=1", pass.upstreamUri("/api/openai/chat/completions?x=1"));
        RouteConfig local = routes.stream().filter(r -> r.pathPrefix().equals("/api/ollama/")).findFirst().orElseThrow();
        assertEquals("/api/tags", local.upstreamUri("/api/ollama/api/tags"));

        assertEquals(List.of(new ModelGroupConfig.Member("vllm", "demo"), new ModelGroupConfig.Member("openai", "gpt-4o-mini")),
                c.modelGroups().get("fast").members());
    }

    @Test
    void aCloudProviderWithoutAKeyIsNotConfigured() throws Exception {
        SluiceConfig c = parse(BASE, Map.of());
        assertFalse(c.providers().get("openai").configured());
        assertEquals("", c.providers().get("openai").apiKey());
    }

    @Test
    void keysNeverShowInToString() throws Exception {
        SluiceConfig c = parse(BASE, Map.of("OPENAI_API_KEY", "sk-openai-secret"));
        assertFalse(c.toString().contains("sk-openai-secret"), c.toString());
        assertFalse(c.toString().contains("sk-ant-secret"));
        assertFalse(c.toString().contains("g-secret"));
    }

    private static String error(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml, Map.of())).getMessage();
    }

    @Test
    void locatedErrors() {
        assertTrue(error(BASE.replace("mine: { format: anthropic,", "mine: {")).contains("needs format:"));
        assertTrue(error(BASE.replace("ollama: { base-url: \"http://localhost:11434\" }",
                "ollama: { base-url: \"http://localhost:11434\", pool: vllm }")).contains("exactly one of base-url:, pool: or simulator:"));
        assertTrue(error(BASE.replace("https://api.openai.com/v1", "ftp://x")).contains("not a base URL"));
        assertTrue(error(BASE.replace("https://api.openai.com/v1", "https://api.openai.com/v1?x=1")).contains("not a base URL"));
        assertTrue(error(BASE.replace("provider: ollama }", "provider: nope }")).contains("no provider named 'nope'"));
        assertTrue(error(BASE.replace("{ provider: openai, model: gpt-4o-mini }", "{ provider: nope, model: x }"))
                .contains("model-groups.fast[1].provider"));
        assertTrue(error(BASE.replace("gateway: chat }", "gateway: chat, pool: vllm }")).contains("one of pool:"));
        assertTrue(error(BASE.replace("gateway: chat }", "gateway: talk }")).contains("is not a gateway"));
        assertTrue(error(BASE.replace("vllm: { pool: vllm }", "vllm: { pool: nope }")).contains("no pool named 'nope'"));
        assertTrue(error(BASE.replace("  mine:", "  Bad_Name:")).contains("must be lower-case"));
    }

    @Test
    void theErrorForABadKeyValueDoesNotEchoOtherKeys() {
        String msg = error(BASE.replace("api-key: g-secret", "api-key: g-secret, format: nope"));
        assertFalse(msg.contains("g-secret"), msg);
        assertFalse(msg.contains("sk-ant-secret"), msg);
    }
}
