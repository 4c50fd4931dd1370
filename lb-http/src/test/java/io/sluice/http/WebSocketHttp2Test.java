package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.sluice.core.observe.Exchange;
import io.sluice.http.websocket.WebSocketTunnel;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * WebSockets over HTTP/2 (RFC 8441): the server offers SETTINGS_ENABLE_CONNECT_PROTOCOL, and an
 * extended CONNECT with {@code :protocol websocket} is tunnelled to an HTTP/1.1 WebSocket backend (or
 * served by a built-in service) on one stream, beside other streams of the same connection, with
 * the stream's flow control as backpressure and closes carried both ways. A listener with
 * {@code http2.websockets: false} offers nothing of it.
 */
class WebSocketHttp2Test {
    private static final Duration T = Duration.ofSeconds(10);
    static final ConcurrentLinkedQueue<Exchange> exchanges = new ConcurrentLinkedQueue<>();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .observer(exchanges::add)
            .yaml("""
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /ws/, pool: echo }
                          - { path: /refuse/, pool: echo }
                          - { path: /tight/, pool: tight }
                          - { path: /agent-bridge, service: agent-bridge }
                      - name: off
                        host: 127.0.0.1
                        port: 0
                        http2: { websockets: false }
                        routes: [ { path: /ws/, pool: echo } ]
                    services:
                      agent-bridge: {}
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                      tight:
                        health: { enabled: false }
                        websocket: { max-message: 1KiB, idle-timeout: 30s }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                    """)
            .build();

    WsBackend backend() {
        return sluice.backend("WS");
    }

    @BeforeEach
    void clear() throws InterruptedException {
        Await.until("earlier tunnels closed", T, () -> sluice.totalInFlight() == 0);
        exchanges.clear();
        backend().handshakes.clear();
        backend().closeCodes.clear();
    }

    @Test
    void theServerOffersExtendedConnect() throws Exception {
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            Http2Settings s = c.serverSettings();
            assertEquals(Boolean.TRUE, s.connectProtocolEnabled(), "SETTINGS_ENABLE_CONNECT_PROTOCOL: " + s);
        }
    }

    @Test
    void aWebSocketStreamIsTunnelledToTheBackendAndClosesCleanly() throws Exception {
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws ws = c.open("/ws/chat?room=1", "websocket", "realtime");
            Http2Headers answer = ws.status.get(10, TimeUnit.SECONDS);
            assertEquals("200", answer.status().toString(), answer.toString());
            assertEquals("realtime", String.valueOf(answer.get("sec-websocket-protocol")), "the backend's subprotocol choice");
            assertFalse(answer.contains("sec-websocket-accept"), "RFC 8441 answers carry no Sec-WebSocket-Accept");
            assertFalse(answer.contains("upgrade") || answer.contains("connection"), answer.toString());
            // The backend saw an ordinary HTTP/1.1 upgrade of the same path.
            Await.until("the backend's handshake", T, () -> !backend().handshakes.isEmpty());
            assertEquals("13", backend().handshakes.peek().get("sec-websocket-version"));
            assertTrue(backend().uris.contains("/ws/chat?room=1"), backend().uris.toString());

            ws.text("hello over h2");
            assertEquals("hello over h2", ws.next());
            ws.send(new io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame(
                    io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {1, 2, 3})));
            assertEquals(java.util.List.of((byte) 1, (byte) 2, (byte) 3), bytes((byte[]) ws.next()));

            // Another stream of the same connection is an ordinary request, served meanwhile.
            H2WsClient.Ws other = c.open("/ws/second");
            other.text("two");
            assertEquals("two", other.next());
            ws.text("still one");
            assertEquals("still one", ws.next());

            ws.send(new io.netty.handler.codec.http.websocketx.CloseWebSocketFrame(4000, "bye"));
            Await.until("the backend got the client's close code", T, () -> backend().closeCodes.contains(4000));
            other.reset(); // a client RST_STREAM ends that tunnel: the backend side closes
            Await.until("both tunnels released their leases", T, () -> sluice.totalInFlight() == 0);
            assertTrue(c.connection.isActive(), "the connection outlives its WebSocket streams");
        }
        Exchange e = exchanges.stream().filter(x -> x.path.equals("/ws/chat")).findFirst().orElseThrow();
        assertEquals(101, e.status, "the exchange of a tunnel is recorded as switching protocols");
    }

    @Test
    void theBackendClosingEndsTheStream() throws Exception {
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws ws = c.open("/ws/close");
            ws.text("close:4321");
            assertEquals(new WsClient.Close(4321), ws.next());
            Object end = ws.next();
            assertTrue(end == H2WsClient.END || end instanceof H2WsClient.Reset, "stream ended: " + end);
            Await.until("lease released", T, () -> sluice.totalInFlight() == 0);

            H2WsClient.Ws cut = c.open("/ws/abort");
            cut.text("abort"); // the backend drops its connection (Netty's handler sends a 1000 first)
            Object ended = cut.next();
            if (ended instanceof WsClient.Close) {
                ended = cut.next();
            }
            assertTrue(ended == H2WsClient.END || ended instanceof H2WsClient.Reset, "stream ended: " + ended);
            Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
            assertTrue(c.connection.isActive());
        }
    }

    @Test
    void aClientEndingItsStreamWithItsCloseFrameStillGetsTheBackendsAnswer() throws Exception {
        // Chromium 156 sends its close frame with END_STREAM (RFC 8441's FIN). The backend's answering close
        // frame still reaches the client, then the stream's end: no RST_STREAM, which is a TCP reset there.
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws ws = c.open("/ws/end");
            ws.text("x");
            assertEquals("x", ws.next());
            ws.closeAndEnd(4003);
            assertEquals(new WsClient.Close(4003), ws.next());
            assertEquals(H2WsClient.END, ws.next());
            Await.until("the backend got the client's close code", T, () -> backend().closeCodes.contains(4003));
            Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
            assertTrue(c.connection.isActive());
        }
    }

    @Test
    void aClientEndingItsSideClosesTheTunnel() throws Exception {
        int closedBefore = backend().closed.get();
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws ws = c.open("/ws/half");
            ws.text("x");
            assertEquals("x", ws.next());
            ws.endStream();
            Await.until("the backend connection closed", T, () -> backend().closed.get() > closedBefore);
            Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
        }
    }

    @Test
    void theStreamsFlowControlIsTheBackpressure() throws Exception {
        WebSocketTunnel.resetMaxPending();
        long total = 16L << 20;
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws ws = c.open("/ws/stream");
            ws.stream.config().setAutoRead(false); // no WINDOW_UPDATE from here on
            backend().streamDone = false;
            long pausesBefore = WebSocketTunnel.backendPauses();
            ws.text("stream:" + total);
            Await.until("the gateway stopped reading the backend, and the backend is blocked", T,
                    () -> WebSocketTunnel.backendPauses() > pausesBefore && backend().streamBlocked);
            long pending = WebSocketTunnel.maxPendingToClient();
            assertTrue(pending < 2L << 20, "the gateway held " + pending + " bytes for a stream that reads nothing");
            assertFalse(backend().streamDone, "16 MiB cannot all have left the backend");
            ws.stream.config().setAutoRead(true);
            ws.stream.read();
            Await.until("everything arrived", Duration.ofSeconds(60), () -> ws.binaryBytes.get() == total);
            System.out.println("h2 websocket backpressure: at most " + WebSocketTunnel.maxPendingToClient()
                    + " bytes pending towards a stream that read nothing while the backend streamed " + total);
        }
    }

    @Test
    void thePoolsWebSocketLimitsHoldOverHttp2() throws Exception {
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws ws = c.open("/tight/x");
            ws.text("y".repeat(2000));
            assertEquals(new WsClient.Close(1009), ws.next());
            Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
            Await.until("the backend got the close", T, () -> backend().closeCodes.contains(1009));
        }
    }

    @Test
    void aBuiltInServiceAnswersOverHttp2() throws Exception {
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws a = c.open("/agent-bridge");
            H2WsClient.Ws b = c.open("/agent-bridge");
            a.text("{\"type\":\"register\",\"agent\":\"h2-a\"}");
            assertTrue(((String) a.next()).contains("\"registered\""));
            b.text("{\"type\":\"register\",\"agent\":\"h2-b\"}");
            assertTrue(((String) b.next()).contains("h2-a"));
            assertTrue(((String) a.next()).contains("agent-joined"));
            b.text("{\"type\":\"send\",\"to\":\"h2-a\",\"data\":\"hi\"}");
            String m = (String) a.next();
            assertTrue(m.contains("\"from\":\"h2-b\"") && m.contains("\"hi\""), m);
        }
    }

    @Test
    void anythingButAWebSocketExtendedConnectIsRefusedWithAnError() throws Exception {
        try (H2WsClient c = new H2WsClient(sluice.port())) {
            H2WsClient.Ws other = c.open("/ws/x", "connect-udp", null);
            assertEquals("501", other.status.get(10, TimeUnit.SECONDS).status().toString());
            assertEquals(H2WsClient.END, other.next());
            assertTrue(other.errorBody.toString().contains("\"code\":\"not_implemented\""), other.errorBody.toString());

            H2WsClient.Ws refused = c.open("/refuse/x", "websocket", null); // WsBackend answers /refuse 403
            Http2Headers answer = refused.status.get(10, TimeUnit.SECONDS);
            assertEquals("403", answer.status().toString(), "the backend's refusal, passed on as a normal response");
            assertTrue(c.connection.isActive());
        }
        Await.until("leases released", T, () -> sluice.totalInFlight() == 0);
    }

    @Test
    void aListenerWithWebSocketsOffOffersNoExtendedConnect() throws Exception {
        try (H2WsClient c = new H2WsClient(sluice.port("off"))) {
            Http2Settings s = c.serverSettings();
            assertTrue(s.connectProtocolEnabled() == null || !s.connectProtocolEnabled(), s.toString());
            H2WsClient.Ws ws = c.open("/ws/x", "websocket", null);
            Object got;
            try {
                got = ws.status.get(10, TimeUnit.SECONDS).status().toString();
            } catch (java.util.concurrent.ExecutionException e) {
                got = e.getCause().getMessage();
            }
            assertNotEquals("200", got, "no tunnel where it is not offered");
        }
        Await.until("nothing held", T, () -> sluice.totalInFlight() == 0);
    }

    private static java.util.List<Byte> bytes(byte[] b) {
        java.util.List<Byte> l = new java.util.ArrayList<>();
        for (byte x : b) {
            l.add(x);
        }
        return l;
    }
}
