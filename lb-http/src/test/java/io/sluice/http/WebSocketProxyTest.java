package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.sluice.core.observe.Exchange;
import io.sluice.http.websocket.WebSocketTunnel;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** WebSocket upgrades on a route to a pool: the 101 forwarded, then a byte tunnel with its limits, over real sockets. */
class WebSocketProxyTest {
    static final Duration T = Duration.ofSeconds(10);
    static final ConcurrentLinkedQueue<Exchange> exchanges = new ConcurrentLinkedQueue<>();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .env("DOWN", String.valueOf(FreePorts.refusing()))
            .observer(exchanges::add)
            .yaml("""
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /ws/, pool: echo }
                          - { path: /refuse/, pool: echo }
                          - { path: /tight/, pool: tight }
                          - { path: /idle/, pool: idle }
                          - { path: /down/, pool: down }
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                      tight:
                        health: { enabled: false }
                        websocket: { max-message: 1KiB, max-connections: 2 }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                      idle:
                        health: { enabled: false }
                        websocket: { idle-timeout: 300ms }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                      down:
                        health: { enabled: false }
                        retries: { attempts: 0 }
                        backends: [ { url: "http://127.0.0.1:${DOWN}" } ]
                    """)
            .build();

    WsBackend backend() {
        return sluice.backend("WS");
    }

    @BeforeEach
    void clear() throws InterruptedException {
        Await.until("earlier tunnels closed", T, () -> sluice.totalInFlight() == 0);
        exchanges.clear();
        backend().closeCodes.clear();
        backend().handshakes.clear();
    }

    private Exchange exchangeFor(String path) throws InterruptedException {
        Await.until("the exchange of " + path + " ended", T, () -> exchanges.stream().anyMatch(e -> e.path.equals(path)));
        return exchanges.stream().filter(e -> e.path.equals(path)).findFirst().orElseThrow();
    }

    @Test
    void echoesTextBinaryAndPingThenTheClientsCloseCodeReachesTheBackend() throws Exception {
        try (WsClient c = WsClient.open(sluice.port(), "/ws/echo")) {
            HttpHeadersView h = new HttpHeadersView(backend().handshakes.peek());
            assertEquals("websocket", h.get("upgrade"));
            assertEquals("13", h.get("sec-websocket-version"));
            assertNotNull(h.get("x-forwarded-for"), "the upgrade is a proxied request like any other");
            assertEquals(1, sluice.totalInFlight(), "the tunnel holds the backend's lease");
            c.text("hello");
            assertEquals("hello", c.next());
            byte[] bin = new byte[100_000];
            new java.util.Random(1).nextBytes(bin);
            c.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bin)));
            assertArrayEquals(bin, (byte[]) c.next());
            c.send(new PingWebSocketFrame(Unpooled.copiedBuffer("p1", StandardCharsets.UTF_8)));
            assertArrayEquals("p1".getBytes(StandardCharsets.UTF_8), ((WsClient.Pong) c.next()).data());
            c.send(new CloseWebSocketFrame(4000, "done"));
            assertEquals(new WsClient.Close(4000), c.next());
            assertTrue(c.closedWithin(10), "the backend's close reaches the client");
        }
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
        assertEquals(List.of(4000), List.copyOf(backend().closeCodes));
        Exchange ex = exchangeFor("/ws/echo");
        assertEquals(101, ex.status);
        assertTrue(ex.bytesIn > 100_000 && ex.bytesOut > 100_000, ex.bytesIn + " in, " + ex.bytesOut + " out");
    }

    @Test
    void theBackendsCloseCodeReachesTheClient() throws Exception {
        try (WsClient c = WsClient.open(sluice.port(), "/ws/x")) {
            c.text("close:4001");
            assertEquals(new WsClient.Close(4001), c.next());
            assertTrue(c.closedWithin(10));
        }
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
    }

    @Test
    void aClientThatGoesAwayClosesTheBackendSideAndViceVersa() throws Exception {
        int closedBefore = backend().closed.get();
        WsClient c = WsClient.open(sluice.port(), "/ws/abort");
        c.text("ping");
        assertEquals("ping", c.next());
        c.close(); // TCP close, no close frame
        Await.until("the backend connection closed", T, () -> backend().closed.get() > closedBefore);
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);

        try (WsClient d = WsClient.open(sluice.port(), "/ws/abort2")) {
            d.text("abort"); // the backend drops its connection
            assertTrue(d.closedWithin(10), "the client connection closes when the backend's does");
        }
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
    }

    @Test
    void bytesPipelinedRightAfterTheUpgradeHeadAreForwarded() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
            s.setSoTimeout(10_000);
            String head = "GET /ws/raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.write(head.getBytes(StandardCharsets.US_ASCII));
            all.write(maskedText("early"));
            OutputStream out = s.getOutputStream();
            out.write(all.toByteArray()); // the frame in the same packet as the head
            out.flush();
            InputStream in = s.getInputStream();
            String response = readHead(in);
            assertTrue(response.startsWith("HTTP/1.1 101"), response);
            assertTrue(response.toLowerCase().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), response);
            assertEquals(0x81, in.read());
            int len = in.read();
            assertEquals("early", new String(in.readNBytes(len), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aClientHalfCloseClosesTheTunnel() throws Exception {
        int closedBefore = backend().closed.get();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /ws/half HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(readHead(in).startsWith("HTTP/1.1 101"));
            s.shutdownOutput(); // FIN, still reading
            assertEquals(-1, in.read(), "the gateway closes the client side");
        }
        Await.until("the backend side closed", T, () -> backend().closed.get() > closedBefore);
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
    }

    @Test
    void aRefusedUpgradeIsAnsweredAsANormalResponse() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /refuse/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(all.startsWith("HTTP/1.1 403"), all);
            assertTrue(all.endsWith("{\"refused\":true}"), all);
            assertTrue(all.toLowerCase().contains("connection: close"), "not switched: the connection closes after the answer");
        }
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
    }

    @Test
    void aMalformedUpgradeIsRefusedWith400() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /ws/bad HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(all.startsWith("HTTP/1.1 400"), all);
            assertTrue(all.contains("\"code\":\"bad_request\"") && all.contains("Sec-WebSocket-Key"), all);
        }
        assertTrue(backend().handshakes.isEmpty(), "nothing went upstream");
    }

    @Test
    void aBackendThatIsDownGives502() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /down/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(all.startsWith("HTTP/1.1 502"), all);
            assertTrue(all.contains("upstream_connect_failed"), all);
        }
    }

    @Test
    void aClientThatStopsReadingDoesNotGrowTheGatewaysMemory() throws Exception {
        WebSocketTunnel.resetMaxPending();
        long total = 32L << 20;
        try (WsClient c = WsClient.open(sluice.port(), "/ws/stream", new DefaultHttpHeaders(), null, true)) {
            c.ch.config().setAutoRead(false); // reads nothing from here on
            backend().streamDone = false;
            c.text("stream:" + total);
            // The backend stops only when every buffer between it and the client is full: kernel buffers and
            // the gateway's, which must stay at its water mark plus a read batch.
            long pausesBefore = WebSocketTunnel.backendPauses();
            Await.until("the gateway stopped reading the backend, and the backend is blocked", T,
                    () -> WebSocketTunnel.backendPauses() > pausesBefore && backend().streamBlocked);
            long pending = WebSocketTunnel.maxPendingToClient();
            assertTrue(pending < 2L << 20, "the gateway held " + pending + " bytes for a client that reads nothing");
            assertFalse(backend().streamDone, "32 MiB cannot all have left the backend");
            c.ch.config().setAutoRead(true);
            Await.until("everything arrived", Duration.ofSeconds(60), () -> c.binaryBytes.get() == total);
            assertTrue(WebSocketTunnel.maxPendingToClient() < 2L << 20, "at most " + WebSocketTunnel.maxPendingToClient());
            System.out.println("backpressure: at most " + WebSocketTunnel.maxPendingToClient() + " bytes pending towards a client"
                    + " that read nothing while the backend streamed " + total + " bytes");
        }
    }

    @Test
    void anIdleTunnelIsClosedWith1001() throws Exception {
        try (WsClient c = WsClient.open(sluice.port(), "/idle/x")) {
            c.text("a");
            assertEquals("a", c.next());
            assertEquals(new WsClient.Close(1001), c.next());
            assertTrue(c.closedWithin(10));
        }
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
        Await.until("the backend got the close", T, () -> backend().closeCodes.contains(1001));
    }

    @Test
    void aMessageOverMaxMessageClosesWith1009() throws Exception {
        try (WsClient c = WsClient.open(sluice.port(), "/tight/x")) {
            c.text("x".repeat(1000));
            assertEquals("x".repeat(1000), c.next());
            c.text("y".repeat(2000));
            assertEquals(new WsClient.Close(1009), c.next());
            assertTrue(c.closedWithin(10));
        }
        Await.until("lease released", T, () -> sluice.totalInFlight() == 0);
        Await.until("the backend got the close", T, () -> backend().closeCodes.contains(1009));
    }

    @Test
    void tunnelsBeyondMaxConnectionsGet503() throws Exception {
        List<WsClient> open = new ArrayList<>();
        try {
            open.add(WsClient.open(sluice.port(), "/tight/1"));
            open.add(WsClient.open(sluice.port(), "/tight/2"));
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /tight/3 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(all.startsWith("HTTP/1.1 503"), all);
                assertTrue(all.contains("websocket_limit"), all);
            }
        } finally {
            open.forEach(WsClient::close);
        }
        Await.until("leases released", T, () -> sluice.totalInFlight() == 0);
        try (WsClient again = WsClient.open(sluice.port(), "/tight/4")) { // the slots came back
            again.text("ok");
            assertEquals("ok", again.next());
        }
    }

    static byte[] maskedText(String s) {
        byte[] p = s.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {1, 2, 3, 4};
        byte[] f = new byte[6 + p.length];
        f[0] = (byte) 0x81;
        f[1] = (byte) (0x80 | p.length);
        System.arraycopy(mask, 0, f, 2, 4);
        for (int i = 0; i < p.length; i++) {
            f[6 + i] = (byte) (p[i] ^ mask[i % 4]);
        }
        return f;
    }

    static String readHead(InputStream in) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            sb.append((char) b);
        }
        return sb.toString();
    }

    /** Case-insensitive header lookups on a recorded handshake. */
    record HttpHeadersView(io.netty.handler.codec.http.HttpHeaders h) {
        String get(String name) {
            return h == null ? null : h.get(name);
        }
    }
}
