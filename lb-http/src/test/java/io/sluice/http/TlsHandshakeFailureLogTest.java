package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Clients that give up during the TLS handshake are the clients' failures: a reset right after the
 * ClientHello, or plain HTTP sent to the TLS port, costs at most a debug line, never a WARN with a
 * stack trace per connection (which a scanner or a load balancer's checks would turn into a flood).
 */
class TlsHandshakeFailureLogTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("""
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        tls: { self-signed: true }
                        routes: [ { path: /api/, admin: true } ]
                    """)
            .build();

    @Test
    void resetsAndNonTlsBytesDuringTheHandshakeLogNoWarning() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(new WarningFloodTest.Tee(original, captured), true, StandardCharsets.UTF_8));
        try {
            for (int i = 0; i < 5; i++) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
                    s.setSoLinger(true, 0); // close() sends RST
                    s.getOutputStream().write(clientHello());
                    s.getOutputStream().flush();
                    s.setSoTimeout(10_000);
                    s.getInputStream().read(); // the ServerHello's first byte: the gateway is mid-handshake now
                }
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), sluice.port())) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    while (s.getInputStream().read() >= 0) {
                        // until the gateway closes the connection
                    }
                }
            }
            // The gateway still answers TLS, and that request's completion orders the log after the failures.
            HttpClient client = HttpClient.newBuilder().sslContext(TestTls.trustAll()).build();
            HttpResponse<String> ok = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + sluice.port() + "/api/ready"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
            // Every failed connection's close has been handled (and anything it logs written) once the gauge is down.
            Await.until("the failed connections closed", Duration.ofSeconds(10), () -> sluice.server().openConnections("http-0") <= 1);
        } finally {
            System.setErr(original);
        }
        String log;
        synchronized (captured) {
            log = captured.toString(StandardCharsets.UTF_8);
        }
        List<String> bad = log.lines().filter(l -> l.contains(" WARN ") || l.startsWith("\tat ")).toList();
        assertTrue(bad.isEmpty(), "warnings or stack traces for clients' own handshake failures:\n" + String.join("\n", bad));
    }

    /** A real ClientHello, from the JDK's own TLS engine. */
    private static byte[] clientHello() throws Exception {
        SSLEngine e = SSLContext.getDefault().createSSLEngine("localhost", 443);
        e.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        SSLEngineResult r = e.wrap(ByteBuffer.allocate(0), out);
        assertTrue(r.bytesProduced() > 0, r.toString());
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }
}
