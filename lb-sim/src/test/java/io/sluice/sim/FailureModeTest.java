package io.sluice.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class FailureModeTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static HttpResponse<String> chat(VllmSimulator sim, boolean stream, Duration timeout) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").timeout(timeout)
                .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":" + stream + ",\"messages\":[]}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static SimulatorOptions.Builder fast() {
        return SimulatorOptions.builder().ttft(Duration.ofMillis(10)).itl(Duration.ofMillis(10)).maxTokens(8);
    }

    @Test
    void refuseClosesTheListenerAndNoneRebindsTheSamePort() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(fast().build())) {
            assertEquals(200, chat(sim, false, WAIT).statusCode()); // leaves a pooled keep-alive connection
            int port = sim.port();
            sim.setFailureMode(FailureMode.REFUSE);
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
            assertThrows(IOException.class, () -> chat(sim, false, WAIT));
            sim.setFailureMode(FailureMode.NONE);
            assertEquals(port, sim.port());
            assertEquals(200, chat(sim, false, WAIT).statusCode());
            assertEquals(sim.baseUrl(), "http://127.0.0.1:" + port);
        }
    }

    @Test
    void startingInRefuseModeStillReservesAPort() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(fast().failureMode(FailureMode.REFUSE).build())) {
            assertTrue(sim.port() > 0);
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", sim.port()).close());
            sim.setFailureMode(FailureMode.NONE);
            assertEquals(200, chat(sim, true, WAIT).statusCode());
        }
    }

    @Test
    void resetMidStreamCutsTheStreamWithRst() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(fast().failureMode(FailureMode.RESET_MID_STREAM)
                .resetAfterTokens(3).build());
             Raw raw = Raw.post(sim.port(), "/v1/chat/completions", "{\"stream\":true,\"messages\":[]}")) {
            IOException error = raw.readToEnd();
            String text = raw.text();
            assertTrue(text.startsWith("HTTP/1.1 200 OK"), text);
            assertEquals(3, Raw.count(text, "\"token_ids\":null}]}"), text); // content chunks before the cut
            assertFalse(text.contains("[DONE]"), text);
            assertFalse(text.contains("\r\n0\r\n\r\n"), "no terminating chunk");
            assertTrue(error != null && String.valueOf(error.getMessage()).toLowerCase().contains("reset"),
                    "expected a connection reset, got " + error);
            assertEquals(0, sim.aborted(), "a server-side reset is not a client abort");
            assertTrue(sim.await(s -> s.running() == 0, WAIT));
        }
    }

    @Test
    void resetMidStreamResetsNonStreamingRequestsBeforeAnyResponse() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(fast().failureMode(FailureMode.RESET_MID_STREAM).build());
             Raw raw = Raw.post(sim.port(), "/v1/chat/completions", "{\"messages\":[]}")) {
            raw.readToEnd();
            assertEquals("", raw.text());
            assertThrows(IOException.class, () -> chat(sim, false, WAIT));
            sim.setFailureMode(FailureMode.NONE);
            assertEquals(200, chat(sim, false, WAIT).statusCode());
        }
    }

    @Test
    void hangReadsButNeverAnswers() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(fast().failureMode(FailureMode.HANG).build())) {
            assertThrows(HttpTimeoutException.class, () -> chat(sim, true, Duration.ofMillis(500)));
            assertThrows(HttpTimeoutException.class, () -> HTTP.send(HttpRequest.newBuilder(
                    URI.create(sim.baseUrl() + "/health")).timeout(Duration.ofMillis(500)).build(),
                    HttpResponse.BodyHandlers.ofString()));
            assertEquals(1, sim.requestsTotal());
            sim.setFailureMode(FailureMode.NONE);
            assertEquals(200, chat(sim, false, WAIT).statusCode());
        }
    }
}
