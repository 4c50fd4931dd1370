package io.sluice.http.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.PoolConfig;
import org.junit.jupiter.api.Test;

/** A pool's models and header rules are settings a reload applies (and reports), not membership. */
class ReloaderSettingsTest {
    private static PoolConfig pool(String extra) throws Exception {
        return ConfigLoader.parse("""
                listeners: [ { port: 8000, routes: [ { path: /, pool: p } ] } ]
                pools:
                  p:
                    backends: [ { url: "http://127.0.0.1:1" } ]
                """ + extra, "t.yaml", n -> null).pools().get("p");
    }

    @Test
    void modelsAndHeadersAreSettings() throws Exception {
        PoolConfig plain = pool("");
        assertTrue(Reloader.sameSettings(plain, pool("")));
        assertFalse(Reloader.sameSettings(plain, pool("    models: [m]\n")));
        assertFalse(Reloader.sameSettings(pool("    models: [m]\n"), pool("    models: [n]\n")));
        assertFalse(Reloader.sameSettings(plain, pool("    headers: { request: { set: { X-A: b } } }\n")));
        assertTrue(Reloader.sameSettings(pool("    models: [m]\n"), pool("    models: [m]\n").withBackends(java.util.List.of())));
    }
}
