package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.core.observe.Exchange;
import io.sluice.http.log.AccessLog;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The access log: one JSON line per request, HTTP/1.1 and HTTP/2 alike, never blocking the event loop. */
class AccessLogTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(30)).itl(Duration.ofMillis(5)).build())
            .yaml("""
                    access-log: { output: "${DIR}/access.log" }
                    listeners:
                      - { name: tls, host: 127.0.0.1, port: 0, tls: { self-signed: true }, routes: [{ path: /v1/, pool: vllm }] }
                    pools:
                      vllm: { backends: [{ url: "http://127.0.0.1:${SIM0}" }] }
                    """)
            .build();

    @Test
    void oneJsonLinePerRequest() throws Exception {
        VllmSimulator sim = sluice.sim(0);
        int port = sluice.port("tls");
        HttpResponse<String> r = TestTls.client(HttpClient.Version.HTTP_2)
                .send(TlsTest.chat(port, 5), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        HttpResponse<String> missing = TestTls.client(HttpClient.Version.HTTP_1_1).send(java.net.http.HttpRequest
                .newBuilder(java.net.URI.create("https://127.0.0.1:" + port + "/nope?q=1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        sluice.close(); // flushes the log

        List<String> lines = Files.readAllLines(sluice.file("access.log"));
        assertEquals(2, lines.size(), lines.toString());
        JsonNode chat = JSON.readTree(lines.get(0));
        assertEquals("POST", chat.get("method").asText());
        assertEquals("/v1/chat/completions", chat.get("path").asText());
        assertEquals(200, chat.get("status").asInt());
        assertEquals("127.0.0.1", chat.get("client_ip").asText());
        assertEquals("HTTP/2", chat.get("proto").asText());
        assertEquals("127.0.0.1:" + sim.port(), chat.get("upstream").asText());
        assertTrue(chat.get("bytes_in").asLong() > 50, lines.get(0));
        assertTrue(chat.get("bytes_out").asLong() > 200, lines.get(0));
        assertTrue(chat.get("ttfb_ms").asDouble() >= 0 && chat.get("ttfb_ms").asDouble() <= chat.get("duration_ms").asDouble(), lines.get(0));
        assertTrue(chat.get("ts").asText().endsWith("Z"));
        assertEquals("completed", chat.get("outcome").asText());
        JsonNode nope = JSON.readTree(lines.get(1));
        assertEquals(404, nope.get("status").asInt());
        assertEquals("/nope", nope.get("path").asText());
        assertEquals("HTTP/1.1", nope.get("proto").asText());
        assertEquals("route_not_found", nope.get("error").asText());
    }

    @Test
    void aStalledWriterDropsLinesInsteadOfBlocking() throws Exception {
        CountDownLatch unblock = new CountDownLatch(1);
        StringBuilder written = new StringBuilder();
        OutputStream stalled = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    unblock.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                synchronized (written) {
                    written.append(new String(b, off, len));
                }
            }
        };
        AccessLog log = AccessLog.to(stalled, 16);
        for (int i = 0; i < 1000; i++) {
            Exchange ex = new Exchange();
            ex.method = "GET";
            ex.path = "/" + i;
            ex.endNanos = System.nanoTime();
            log.onExchangeEnd(ex); // returns at once even though the writer is stuck
        }
        assertTrue(log.dropped() >= 1000 - 16 - 256 - 1, "dropped " + log.dropped());
        unblock.countDown();
        log.close();
        assertEquals(1000, log.dropped() + log.written());
        synchronized (written) {
            assertTrue(written.toString().contains("\"dropped_total\":" + log.dropped()), written.toString());
        }
    }
}
