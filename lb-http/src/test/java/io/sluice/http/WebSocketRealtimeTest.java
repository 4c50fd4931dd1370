package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The OpenAI Realtime API ({@code /v1/realtime}, a WebSocket) through a provider route: the server's key goes upstream, the client's never. */
class WebSocketRealtimeTest {
    static final String SERVER_KEY = "sk-server-realtime-0123456789";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .env("OPENAI_API_KEY", SERVER_KEY)
            .yaml("""
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /v1/, provider: openai }
                    providers:
                      openai: { base-url: "http://127.0.0.1:${WS}/v1", api-key: "${OPENAI_API_KEY}" }
                    """)
            .build();

    WsBackend backend() {
        return sluice.backend("WS");
    }

    @BeforeEach
    void clear() {
        backend().handshakes.clear();
        backend().uris.clear();
    }

    @Test
    void theServersKeyIsInjectedAndTheClientsCredentialsAreRemoved() throws Exception {
        HttpHeaders h = new DefaultHttpHeaders().set("authorization", "Bearer sk-client-should-not-pass")
                .set("openai-beta", "realtime=v1");
        try (WsClient c = WsClient.open(sluice.port(), "/v1/realtime?model=gpt-realtime", h,
                "realtime,openai-insecure-api-key.sk-client-browser,openai-beta.realtime-v1", false)) {
            c.text("{\"type\":\"session.update\"}");
            assertEquals("{\"type\":\"session.update\"}", c.next());
        }
        HttpHeaders got = backend().handshakes.stream().filter(x -> x.contains("upgrade")).findFirst().orElseThrow();
        assertEquals("Bearer " + SERVER_KEY, got.get("authorization"));
        assertEquals("realtime, openai-beta.realtime-v1", got.get("sec-websocket-protocol"));
        assertEquals("realtime=v1", got.get("openai-beta"));
        assertTrue(backend().uris.contains("/v1/realtime?model=gpt-realtime"), backend().uris.toString());
        assertFalse(got.toString().contains("sk-client"), got.toString());
        Await.until("lease released", Duration.ofSeconds(10), () -> sluice.totalInFlight() == 0);
    }

    @Test
    void aForeignBrowserOriginIsRefusedAsOnEveryProviderRoute() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(all.startsWith("HTTP/1.1 403"), all);
            assertTrue(all.contains("origin_not_allowed"), all);
        }
        assertTrue(backend().handshakes.stream().noneMatch(x -> x.contains("upgrade")), "no upgrade reached the provider");
    }
}
