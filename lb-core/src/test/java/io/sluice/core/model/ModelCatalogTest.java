package io.sluice.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.SluiceConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelCatalogTest {
    private static SluiceConfig parse(String yaml) throws Exception {
        return ConfigLoader.parse(yaml, "t.yaml", n -> null);
    }

    private static final String CONFIG = """
            listeners: [ { port: 8000, routes: [ { path: /, by-model: true } ] } ]
            pools:
              chat: { models: [llama-3-8b, llama-3-70b], backends: [ { url: "http://127.0.0.1:1" } ] }
              plain: { backends: [ { url: "http://127.0.0.1:2" } ] }
              code: { models: [qwen-coder], backends: [ { url: "http://127.0.0.1:3" } ] }
            models:
              aliases: { default: llama-3-8b, gpt-4o: default, coder: qwen-coder }
            """;

    @Test
    void resolvesAliasesTransitivelyAndFindsPools() throws Exception {
        ModelCatalog c = ModelCatalog.of(parse(CONFIG));
        assertEquals(List.of("llama-3-8b", "llama-3-70b", "qwen-coder"), c.served());
        assertEquals(Map.of("default", "llama-3-8b", "gpt-4o", "llama-3-8b", "coder", "qwen-coder"), c.aliases());
        assertEquals(List.of("default", "gpt-4o", "coder"), List.copyOf(c.aliases().keySet()));
        assertEquals("llama-3-8b", c.resolve("gpt-4o"));
        assertEquals("llama-3-70b", c.resolve("llama-3-70b"));
        assertNull(c.resolve("gpt-5"));
        assertNull(c.resolve(null));
        assertNull(c.resolve("LLAMA-3-8B")); // exact names, as vLLM compares them
        assertEquals("chat", c.poolFor("llama-3-8b"));
        assertEquals("code", c.poolFor(c.resolve("coder")));
        assertNull(c.poolFor("default")); // resolve first
        assertEquals("llama-3-8b, llama-3-70b, qwen-coder (aliases: default, gpt-4o, coder)", c.describe());
    }

    @Test
    void emptyWithoutModels() throws Exception {
        ModelCatalog c = ModelCatalog.of(parse("""
                listeners: [ { port: 8000, routes: [ { path: /, pool: p } ] } ]
                pools: { p: { backends: [ { url: "http://127.0.0.1:1" } ] } }
                """));
        assertSame(ModelCatalog.EMPTY, c);
        assertTrue(c.isEmpty());
        assertEquals("no models are configured", c.describe());
        assertNull(c.resolve("x"));
    }

    @Test
    void describeIsBounded() throws Exception {
        StringBuilder models = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            models.append(i == 0 ? "" : ", ").append("model-number-").append(i);
        }
        ModelCatalog c = ModelCatalog.of(parse("""
                listeners: [ { port: 8000, routes: [ { path: /, by-model: true } ] } ]
                pools: { p: { models: [%s], backends: [ { url: "http://127.0.0.1:1" } ] } }
                models: { aliases: { a: model-number-1 } }
                """.formatted(models)));
        String d = c.describe();
        assertTrue(d.length() < 340, d);
        assertTrue(d.startsWith("model-number-0, model-number-1, "), d);
        assertTrue(d.matches(".* \\.\\.\\. and \\d+ more$"), d);
    }
}
