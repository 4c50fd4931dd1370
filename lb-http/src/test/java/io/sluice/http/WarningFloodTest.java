package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An overload must not flood the log: 503s for a pool without a healthy backend write one WARN line
 * per 10 s, and the next one says how many were left out.
 *
 * <p>The log is slf4j-simple's, which writes to whatever {@code System.err} is when it logs; the test
 * tees it for the duration and looks only at lines naming its own pool.
 */
class WarningFloodTest {
    static final int DEAD_PORT = FreePorts.refusing();
    static final String WHY = "no healthy backend in pool 'flooded'";

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: flooded } ]
            pools:
              flooded:
                health: { interval: 100ms, timeout: 90ms, rise: 1, fall: 1 }
                backends: [ { url: "http://127.0.0.1:%d" } ]
            admin: { scrape-interval: 0 }
            """.formatted(DEAD_PORT));

    @Test
    void oneWarningPerIntervalThenACount() throws Exception {
        Await.until("the dead backend is marked down", Duration.ofSeconds(10),
                () -> sluice.server().upstreams().pool("flooded").healthyCount() == 0);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
        try (RawHttp c = new RawHttp(sluice.port())) {
            int sent = 0;
            for (; sent < 200; sent++) {
                assertEquals(503, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange().status());
            }
            List<String> lines = warnings(captured);
            assertEquals(1, lines.size(), "200 503s, one line: " + lines);
            assertTrue(!lines.get(0).contains("more like this"), lines.get(0));

            // The WARN is written before the 503 goes out, so after each answer the log is up to date.
            while (warnings(captured).size() < 2) {
                assertTrue(sent < 2000, "no summary line after " + sent + " requests");
                assertEquals(503, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange().status());
                sent++;
                if (warnings(captured).size() < 2) {
                    Thread.sleep(20); // pacing while the interval runs out, not a wait for a result
                }
            }
            lines = warnings(captured);
            assertEquals(2, lines.size(), lines.toString());
            Matcher m = Pattern.compile("\\((\\d+) more like this in the 10s after the previous one\\)").matcher(lines.get(1));
            assertTrue(m.find(), lines.get(1));
            assertEquals(sent - 2, Long.parseLong(m.group(1)), "every request but the two logged is counted");
        } finally {
            System.setErr(original);
        }
    }

    private static List<String> warnings(ByteArrayOutputStream captured) {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8).lines()
                    .filter(l -> l.contains("WARN") && l.contains(WHY)).toList();
        }
    }

    /** Writes to both, so the test's output still shows what the gateway logged. */
    static final class Tee extends OutputStream {
        private final OutputStream a;
        private final ByteArrayOutputStream b;

        Tee(OutputStream a, ByteArrayOutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) {
            write(new byte[] {(byte) x}, 0, 1);
        }

        @Override
        public void write(byte[] buf, int off, int len) {
            synchronized (b) {
                b.write(buf, off, len);
            }
            try {
                a.write(buf, off, len);
            } catch (java.io.IOException ignored) {
                // the console is not what is tested
            }
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
        }
    }
}
