package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code pools.<name>.queue}: classes, fair shares and spill, and their mistakes with file:line. */
class QueueAdmissionConfigTest {

    private static SluiceConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "t.yaml", k -> null);
    }

    @Test
    void everyKeyIsReadWithItsDefault() throws Exception {
        SluiceConfig c = parse("""
                listeners: [ { port: 8000, routes: [ { path: /v1/, pool: p } ] } ]
                pools:
                  p:
                    max-in-flight-per-backend: 2
                    queue: { size: 10, timeout: 5s, classes: [ interactive, batch ], class-header: X-Priority,
                             key-classes: { team-batch: batch }, spill-to: q, spill-after: 2s }
                    backends: [ { url: "http://127.0.0.1:9" } ]
                  q:
                    queue: { size: 4 }
                    backends: [ { url: "http://127.0.0.1:10" } ]
                """);
        QueueConfig q = c.pools().get("p").queue();
        assertEquals(List.of("interactive", "batch"), q.classes());
        assertEquals("x-priority", q.classHeader());
        assertEquals(Map.of("team-batch", "batch"), q.keyClasses());
        assertEquals("interactive", q.defaultClass(), "the first class");
        assertEquals(50, q.keySharePercent());
        assertEquals(5, q.keyLimit(10));
        assertEquals("q", q.spillTo());
        assertEquals(Duration.ofSeconds(2), q.spillAfter());
        assertSame(QueueConfig.NONE, c.pools().get("q").queue(), "size and timeout alone: a FIFO line");
    }

    @Test
    void mistakesAreLocated() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                listeners: [ { port: 8000, routes: [ { path: /v1/, pool: p } ] } ]
                pools:
                  p:
                    queue:
                      classes: [ interactive, batch ]
                      default-class: urgent
                      key-classes: { k: bulk }
                      key-share-percent: 0
                      spill-to: nowhere
                    backends: [ { url: "http://127.0.0.1:9" } ]
                  q:
                    queue: { size: 1, spill-after: 1s, class-header: x-priority, sizes: 2 }
                    backends: [ { url: "http://127.0.0.1:10" } ]
                  r:
                    queue: { spill-to: r }
                    backends: [ { url: "http://127.0.0.1:11" } ]
                """));
        String m = e.getMessage();
        assertTrue(m.contains("t.yaml:6:") && m.contains("pools.p.queue.default-class") && m.contains("'urgent'"), m);
        assertTrue(m.contains("t.yaml:7:") && m.contains("pools.p.queue.key-classes.k") && m.contains("'bulk'"), m);
        assertTrue(m.contains("t.yaml:8:") && m.contains("pools.p.queue.key-share-percent"), m);
        assertTrue(m.contains("t.yaml:9:") && m.contains("no pool named 'nowhere'"), m);
        assertTrue(m.contains("t.yaml:12:") && m.contains("spill-after needs spill-to"), m);
        assertTrue(m.contains("need classes"), m);
        assertTrue(m.contains("unknown key 'sizes'"), m);
        assertTrue(m.contains("t.yaml:15:") && m.contains("cannot spill to itself"), m);
    }
}
