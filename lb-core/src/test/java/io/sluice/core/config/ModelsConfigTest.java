package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.config.HeaderRule.Op;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Routing by model, aliases, prefix rewrite and header rules: parsing and located validation. */
class ModelsConfigTest {

    /** Two pools with models, one without; error tests replace one piece of it. */
    private static final String BASE = """
            listeners:
              - port: 8000
                routes:
                  - { path: /v1/, by-model: true }
                  - { path: /api/dce/proxy, pool: chat, prefix-rewrite: /v1/chat/completions, model: llama-3-8b }
                  - { path: /api/, admin: true }
            pools:
              chat:
                models: [llama-3-8b]
                backends:
                  - url: http://127.0.0.1:8001
              code:
                models: [qwen-coder]
                backends:
                  - url: http://127.0.0.1:8002
              plain:
                backends:
                  - url: http://127.0.0.1:8003
            models:
              aliases: { default: llama-3-8b, gpt-4o: default }
            """;

    private static SluiceConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "test.yaml", name -> name.equals("TEAM") ? "ml" : null);
    }

    private static void assertError(String yaml, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        assertTrue(e.getMessage().startsWith(expected), () -> "expected: " + expected + "\nbut was:  " + e.getMessage());
        assertEquals(1, e.problems().size(), e::getMessage);
    }

    @Test
    void parsesModelsAliasesAndRouteKeys() throws Exception {
        SluiceConfig c = parse(BASE);
        assertEquals(List.of("llama-3-8b"), c.pools().get("chat").models());
        assertEquals(List.of(), c.pools().get("plain").models());
        assertEquals(HeaderRules.NONE, c.pools().get("plain").headers());
        assertEquals(Map.of("default", "llama-3-8b", "gpt-4o", "default"), c.models().aliases());
        List<RouteConfig> routes = c.listeners().get(0).routes();
        RouteConfig byModel = routes.get(0);
        assertTrue(byModel.byModel());
        assertNull(byModel.pool());
        assertFalse(byModel.admin());
        RouteConfig dce = routes.get(1);
        assertEquals("llama-3-8b", dce.forceModel());
        assertEquals("/v1/chat/completions", dce.prefixRewrite());
        assertEquals(HeaderRules.NONE, dce.headers());
        assertEquals(new RouteConfig("/api/", null, true), routes.get(2));
    }

    @Test
    void theModelsExampleLoads() throws Exception {
        SluiceConfig c = ConfigLoader.load(java.nio.file.Path.of("../config/examples/models.yaml"), n -> null);
        assertEquals(8000, c.listeners().get(0).port());
        assertEquals(List.of("llama-3-8b"), c.pools().get("chat").models());
        assertEquals("llama-3-8b", c.pools().get("chat").backends().get(0).simulator().model());
        assertEquals(2, c.pools().get("chat").backends().size());
        assertEquals("qwen-coder", c.pools().get("code").backends().get(0).simulator().model());
        assertEquals(new HeaderRule(Op.SET, "X-Team", "ml"), c.pools().get("code").headers().request().get(0));
        assertEquals(Map.of("default", "llama-3-8b"), c.models().aliases());
        RouteConfig dce = c.listeners().get(0).routes().get(0);
        assertEquals("chat", dce.pool());
        assertEquals("llama-3-8b", dce.forceModel());
        assertEquals("/v1/chat/completions?x=1", dce.upstreamUri("/api/dce/proxy?x=1"));
        assertTrue(c.listeners().get(0).routes().get(1).byModel());
        assertEquals(9000, ConfigLoader.load(java.nio.file.Path.of("../config/examples/models.yaml"),
                n -> n.equals("SLUICE_PORT") ? "9000" : null).listeners().get(0).port());
    }

    @Test
    void absentSectionsAreEmpty() throws Exception {
        SluiceConfig c = parse("""
                listeners: [ { port: 8000, routes: [ { path: /, pool: p } ] } ]
                pools: { p: { backends: [ { url: "http://127.0.0.1:1" } ] } }
                """);
        assertEquals(ModelsConfig.NONE, c.models());
        assertEquals(new RouteConfig("/", "p", false), c.listeners().get(0).routes().get(0));
    }

    @Test
    void forcedAliasResolvesToTheRealModel() throws Exception {
        SluiceConfig c = parse(BASE.replace("model: llama-3-8b }", "model: gpt-4o }"));
        assertEquals("llama-3-8b", c.listeners().get(0).routes().get(1).forceModel());
    }

    @Test
    void byModelRouteMayHaveADefaultPoolAndForceAModel() throws Exception {
        RouteConfig r = parse(BASE.replace("{ path: /v1/, by-model: true }", "{ path: /v1/, by-model: true, pool: plain, model: default }"))
                .listeners().get(0).routes().get(0);
        assertEquals("plain", r.pool());
        assertEquals("llama-3-8b", r.forceModel());
    }

    @Test
    void headerRulesInApplicationOrderWithVariables() throws Exception {
        SluiceConfig c = parse(BASE.replace("    models: [qwen-coder]\n", """
                    models: [qwen-coder]
                    headers:
                      request:  { set: { X-Team: "${TEAM:-none}", X-N: 5 }, add: { X-Tag: a }, remove: [ X-Debug ] }
                      response: { set: { Cache-Control: no-store }, remove: [ server ] }
                """).replace("{ path: /v1/, by-model: true }", "{ path: /v1/, by-model: true, headers: { response: { add: { X-Via: sluice } } } }"));
        HeaderRules pool = c.pools().get("code").headers();
        assertEquals(List.of(new HeaderRule(Op.REMOVE, "X-Debug", null), new HeaderRule(Op.SET, "X-Team", "ml"),
                new HeaderRule(Op.SET, "X-N", "5"), new HeaderRule(Op.ADD, "X-Tag", "a")), pool.request());
        assertEquals(List.of(new HeaderRule(Op.REMOVE, "server", null), new HeaderRule(Op.SET, "Cache-Control", "no-store")),
                pool.response());
        HeaderRules route = c.listeners().get(0).routes().get(0).headers();
        assertEquals(List.of(), route.request());
        assertEquals(List.of(new HeaderRule(Op.ADD, "X-Via", "sluice")), route.response());
        assertFalse(route.isEmpty());
        assertTrue(HeaderRules.NONE.isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"content-length", "Transfer-Encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
            "proxy-connection"})
    void framingAndHopByHopHeadersAreRejected(String name) {
        assertError(BASE.replace("{ path: /v1/, by-model: true }", "{ path: /v1/, by-model: true, headers: { request: { set: { " + name + ": x } } } }"),
                "test.yaml:4:68: listeners[0].routes[0].headers.request.set." + name + ": '" + name + "' is managed by Sluice");
        assertError(BASE.replace("{ path: /v1/, by-model: true }", "{ path: /v1/, by-model: true, headers: { response: { remove: [ " + name + " ] } } }"),
                "test.yaml:4:72: listeners[0].routes[0].headers.response.remove[0]: '" + name + "' is managed by Sluice");
    }

    @Test
    void badHeaderRules() {
        String at = "{ path: /v1/, by-model: true }";
        assertError(BASE.replace(at, "{ path: /v1/, by-model: true, headers: { request: { set: { Host: x } } } }"),
                "test.yaml:4:68: listeners[0].routes[0].headers.request.set.Host: Host cannot be changed by header rules; use the pool's host-header");
        assertError(BASE.replace(at, "{ path: /v1/, by-model: true, headers: { request: { set: { \"X Bad\": x } } } }"),
                "test.yaml:4:68: listeners[0].routes[0].headers.request.set.X Bad: 'X Bad' is not a valid header name");
        assertError(BASE.replace(at, "{ path: /v1/, by-model: true, headers: { request: { set: { X-A: \"a\\r\\nX-B: b\" } } } }"),
                "test.yaml:4:73: listeners[0].routes[0].headers.request.set.X-A: header value contains a control character (code 13)");
        assertError(BASE.replace(at, "{ path: /v1/, by-model: true, headers: { request: { add: { X-A: \"\\0\" } } } }"),
                "test.yaml:4:73: listeners[0].routes[0].headers.request.add.X-A: header value contains a control character (code 0)");
        assertError(BASE.replace(at, "{ path: /v1/, by-model: true, headers: { request: { sett: { X-A: a } } } }"),
                "test.yaml:4:61: listeners[0].routes[0].headers.request.sett: unknown key 'sett' (did you mean 'set'?)");
        assertError(BASE.replace(at, "{ path: /v1/, by-model: true, headers: { request: { remove: X-A } } }"),
                "test.yaml:4:69: listeners[0].routes[0].headers.request.remove: expected a list of header names, got 'X-A'");
        assertError(BASE.replace(at, "{ path: /v1/, by-model: true, headers: { request: { set: { X-A: } } } }"),
                "test.yaml:4:72: listeners[0].routes[0].headers.request.set.X-A: expected a header value");
        assertError(BASE.replace("{ path: /api/, admin: true }", "{ path: /api/, admin: true, headers: { response: { set: { X-A: a } } } }"),
                "test.yaml:6:46: listeners[0].routes[2].headers: headers applies to proxied routes, not to admin: true");
    }

    @Test
    void routeValidation() {
        assertError(BASE.replace("pool: chat, prefix-rewrite", "pool: chatt, prefix-rewrite"),
                "test.yaml:5:39: listeners[0].routes[1].pool: no pool named 'chatt'");
        assertError(BASE.replace("prefix-rewrite: /v1/chat/completions", "prefix-rewrite: v1/chat/completions"),
                "test.yaml:5:61: listeners[0].routes[1].prefix-rewrite: 'v1/chat/completions' must start with '/'");
        assertError(BASE.replace("prefix-rewrite: /v1/chat/completions", "prefix-rewrite: \"/v1?x=1\""),
                "test.yaml:5:61: listeners[0].routes[1].prefix-rewrite: '/v1?x=1' must be a path without query");
        assertError(BASE.replace("model: llama-3-8b }", "model: llama-3-70b }"),
                "test.yaml:5:90: listeners[0].routes[1].model: model 'llama-3-70b' is not served by any pool (served: llama-3-8b, qwen-coder)");
        assertError(BASE.replace("model: llama-3-8b }", "model: qwen-coder }"),
                "test.yaml:5:90: listeners[0].routes[1].model: pool 'chat' does not serve model 'qwen-coder', pool 'code' does");
        assertError(BASE.replace("{ path: /api/, admin: true }", "{ path: /api/, admin: true, by-model: true }"),
                "test.yaml:6:47: listeners[0].routes[2].by-model: an admin route cannot choose a pool by model");
        assertError(BASE.replace("{ path: /api/, admin: true }", "{ path: /api/, admin: true, prefix-rewrite: / }"),
                "test.yaml:6:53: listeners[0].routes[2].prefix-rewrite: prefix-rewrite applies to proxied routes");
        assertError(BASE.replace("{ path: /api/, admin: true }", "{ path: /api/, admin: true, model: default }"),
                "test.yaml:6:44: listeners[0].routes[2].model: model applies to proxied routes");
        assertError(BASE.replace("{ path: /v1/, by-model: true }", "{ path: /v1/ }"),
                "test.yaml:4:9: listeners[0].routes[0]: a route needs either pool: NAME or admin: true (or by-model: true)");
        assertError(BASE.replace("{ path: /v1/, by-model: true }", "{ path: /v1/, by-model: yes-please }"),
                "test.yaml:4:33: listeners[0].routes[0].by-model: expected true or false");
    }

    @Test
    void byModelNeedsAPoolThatDeclaresModels() {
        assertError("""
                listeners: [ { port: 8000, routes: [ { path: /, by-model: true } ] } ]
                pools: { p: { backends: [ { url: "http://127.0.0.1:1" } ] } }
                """, "test.yaml:1:59: listeners[0].routes[0].by-model: no pool declares models: (by-model chooses among the pools that do)");
    }

    @Test
    void poolModelValidation() {
        assertError(BASE.replace("models: [qwen-coder]", "models: [qwen-coder, llama-3-8b]"),
                "test.yaml:13:26: pools.code.models[1]: model 'llama-3-8b' is already served by pool 'chat'");
        assertError(BASE.replace("models: [qwen-coder]", "models: [qwen-coder, qwen-coder]"),
                "test.yaml:13:26: pools.code.models[1]: model 'qwen-coder' is listed twice");
        assertError(BASE.replace("models: [qwen-coder]", "models: qwen-coder"),
                "test.yaml:13:13: pools.code.models: expected a list of model names, got 'qwen-coder'");
        assertError(BASE.replace("models: [qwen-coder]", "models: [\" qwen\"]"),
                "test.yaml:13:14: pools.code.models[0]: model name 'qwen' has surrounding spaces");
    }

    @Test
    void simulatorsServeThePoolsModel() throws Exception {
        String sims = BASE.replace("      - url: http://127.0.0.1:8001\n", "      - simulator: {}\n      - simulator: { model: llama-3-8b }\n");
        List<BackendConfig> chat = parse(sims).pools().get("chat").backends();
        assertEquals("llama-3-8b", chat.get(0).simulator().model());
        assertEquals("llama-3-8b", chat.get(1).simulator().model());
        assertEquals("demo", parse(BASE.replace("      - url: http://127.0.0.1:8003\n", "      - simulator: {}\n"))
                .pools().get("plain").backends().get(0).simulator().model());
        assertError(BASE.replace("      - url: http://127.0.0.1:8001\n", "      - simulator: { model: qwen-coder }\n"),
                "test.yaml:11:29: pools.chat.backends[0].simulator.model: the simulator serves 'qwen-coder', which is not among the pool's models (llama-3-8b)");
    }

    @Test
    void aliasValidation() {
        assertError(BASE.replace("{ default: llama-3-8b, gpt-4o: default }", "{ a: b, b: a }"),
                "test.yaml:20:14: models.aliases.a: alias cycle: a -> b -> a");
        assertError(BASE.replace("{ default: llama-3-8b, gpt-4o: default }", "{ a: a }"),
                "test.yaml:20:14: models.aliases.a: alias cycle: a -> a");
        assertError(BASE.replace("{ default: llama-3-8b, gpt-4o: default }", "{ default: llama-3-8b, gpt-4o: gpt-5 }"),
                "test.yaml:20:43: models.aliases.gpt-4o: alias 'gpt-4o' leads to 'gpt-5', which no pool serves (served: llama-3-8b, qwen-coder)");
        assertError(BASE.replace("{ default: llama-3-8b, gpt-4o: default }", "{ default: llama-3-8b, qwen-coder: llama-3-8b }"),
                "test.yaml:20:35: models.aliases.qwen-coder: alias 'qwen-coder' shadows the model of that name served by pool 'code'");
        assertError(BASE.replace("{ default: llama-3-8b, gpt-4o: default }", "[ default ]"),
                "test.yaml:20:12: models.aliases: expected a mapping of alias to model name, got a list");
        assertError(BASE.replace("aliases:", "alias:"), "test.yaml:20:3: models.alias: unknown key 'alias'");
        // A route forcing a broken alias is not reported a second time.
        assertError(BASE.replace("{ default: llama-3-8b, gpt-4o: default }", "{ default: llama-3-8b, gpt-4o: gpt-5 }")
                .replace("model: llama-3-8b }", "model: gpt-4o }"), "test.yaml:20:43: models.aliases.gpt-4o: alias 'gpt-4o' leads to 'gpt-5'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/api/dce/proxy | /v1/chat/completions | /api/dce/proxy?x=1     | /v1/chat/completions?x=1",
            "/api/dce/proxy | /v1/chat/completions | /api/dce/proxy         | /v1/chat/completions",
            "/api/dce/proxy | /v1/chat/completions | /api/dce/proxy/x       | /v1/chat/completions/x",
            "/api/vllm/     | /                    | /api/vllm/v1/models    | /v1/models",
            "/api/vllm/     | /                    | /api/vllm              | /",
            "/api/vllm/     | /                    | /api/vllm/             | /",
            "/api/vllm/     | /                    | /api/vllm/?a=b&c       | /?a=b&c",
            "/api/vllm      | /v1/                 | /api/vllm/models       | /v1/models",
            "/api/vllm      | /v1                  | /api/vllm/models       | /v1/models",
            "/api/vllm/     | /v1                  | /api/vllm/models       | /v1models",
            "/              | /prefix/             | /v1/models?q=/a        | /prefix/v1/models?q=/a",
            "/api/vllm/     | /                    | /other/path            | /other/path",
    })
    void upstreamUri(String path, String rewrite, String uri, String expected) {
        assertEquals(expected, new RouteConfig(path, "p", false, null, false, false, null, rewrite, null).upstreamUri(uri));
    }

    @Test
    void upstreamUriWithoutRewriteIsTheSame() {
        String uri = "/v1//x?y";
        assertTrue(uri == new RouteConfig("/v1/", "p", false).upstreamUri(uri));
    }

    @Test
    void recordInvariants() {
        assertThrows(IllegalArgumentException.class, () -> new RouteConfig("/", null, false));
        assertEquals(HeaderRules.NONE, new RouteConfig("/", null, false, null, false, true, null, null, null).headers());
        assertThrows(IllegalArgumentException.class, () -> new RouteConfig("/", null, true, null, false, true, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> new RouteConfig("/", "p", false, null, false, false, null, "x", null));
        assertThrows(IllegalArgumentException.class, () -> new HeaderRule(Op.SET, "X", null));
        assertThrows(IllegalArgumentException.class, () -> new HeaderRule(Op.REMOVE, "X", "v"));
    }

    @Test
    void routeMethods() throws Exception {
        String post = BASE.replace("{ path: /api/dce/proxy, pool: chat,", "{ path: /api/dce/proxy, methods: [POST, POST, GET], pool: chat,");
        RouteConfig r = parse(post).listeners().get(0).routes().stream()
                .filter(x -> x.pathPrefix().equals("/api/dce/proxy")).findFirst().orElseThrow();
        assertEquals(java.util.List.of("POST", "GET"), r.methods());
        assertTrue(r.allows("POST") && !r.allows("DELETE"));
        assertTrue(parse(BASE).listeners().get(0).routes().get(0).allows("DELETE"), "no methods: every method");
        assertError(BASE.replace("{ path: /api/dce/proxy, pool: chat,", "{ path: /api/dce/proxy, methods: [post], pool: chat,"),
                "test.yaml:5:43: listeners[0].routes[1].methods[0]: 'post' is not an HTTP method");
        assertError(BASE.replace("{ path: /api/dce/proxy, pool: chat,", "{ path: /api/dce/proxy, methods: [], pool: chat,"),
                "test.yaml:5:42: listeners[0].routes[1].methods: at least one method is needed");
    }
}
