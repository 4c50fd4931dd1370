package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.sim.SimulatorOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** TLS termination: ALPN, TLS versions, SNI, certificate reload under a live stream, development certificate. */
class TlsTest {
    static X509Certificate certA;
    static X509Certificate certB;
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .files(dir -> {
                certA = TestTls.writePair(dir, "a", "a.test", "localhost");
                certB = TestTls.writePair(dir, "b", "b.test", "*.b.test");
            })
            .simulators(SimulatorOptions.builder().model("demo")
                    .ttft(Duration.ofMillis(10)).itl(Duration.ofMillis(20)).maxTokens(1000).build())
            .yaml("""
                    listeners:
                      - name: https
                        host: 127.0.0.1
                        port: 0
                        tls:
                          certificates:
                            - { cert: "${DIR}/a.crt", key: "${DIR}/a.key" }
                            - { cert: "${DIR}/b.crt", key: "${DIR}/b.key" }
                          reload-interval: 100ms
                          hsts: 1d
                        routes: [{ path: /v1/, pool: vllm }]
                      - name: dev
                        host: 127.0.0.1
                        port: 0
                        tls: { self-signed: true }
                        routes: [{ path: /v1/, pool: vllm }]
                    pools:
                      vllm:
                        backends: [{ url: "http://127.0.0.1:${SIM0}" }]
                    """)
            .build();

    static int port() {
        return sluice.port("https");
    }

    static HttpRequest chat(int port, int tokens) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(30))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(RawHttp.chatBody("demo", true, tokens))).build();
    }

    @Test
    void alpnPicksH2AndHttp11StillWorks() throws Exception {
        for (HttpClient.Version v : HttpClient.Version.values()) {
            HttpResponse<String> r = TestTls.client(v).send(chat(port(), 5), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(v, r.version());
            assertTrue(r.body().trim().endsWith("data: [DONE]"), r.body());
            assertEquals("max-age=86400", r.headers().firstValue("strict-transport-security").orElse(null));
            assertTrue(r.headers().firstValue("x-request-id").isPresent());
        }
    }

    @Test
    void sniPicksTheCertificate() throws Exception {
        assertEquals(certA.getSerialNumber(), TestTls.handshake(port(), "a.test").getSerialNumber());
        assertEquals(certB.getSerialNumber(), TestTls.handshake(port(), "b.test").getSerialNumber());
        assertEquals(certB.getSerialNumber(), TestTls.handshake(port(), "x.b.test").getSerialNumber());
        // No SNI, or an unknown name: the first certificate.
        assertEquals(certA.getSerialNumber(), TestTls.handshake(port(), null).getSerialNumber());
        assertEquals(certA.getSerialNumber(), TestTls.handshake(port(), "unknown.test").getSerialNumber());
    }

    @Test
    void onlyTls12And13() throws Exception {
        assertEquals("TLSv1.2", handshakeProtocol("TLSv1.2"));
        assertEquals("TLSv1.3", handshakeProtocol("TLSv1.3"));
        // The JDK client refuses 1.0/1.1 by policy; openssl s_client asks for them below.
        assumeTrue(TestTls.available("openssl"), "openssl not installed");
        for (String old : List.of("-tls1", "-tls1_1")) {
            TestTls.Result r = TestTls.run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port(), old,
                    "-cipher", "DEFAULT@SECLEVEL=0", "-servername", "a.test"), Duration.ofSeconds(30));
            assertNotEquals(0, r.exit(), r.out());
            assertTrue(r.out().contains("alert protocol version") || r.out().contains("unsupported protocol")
                    || r.out().contains("no protocols available"), r.out());
        }
        TestTls.Result h2 = TestTls.run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port(), "-alpn", "h2",
                "-servername", "a.test"), Duration.ofSeconds(30));
        assertTrue(h2.out().contains("ALPN protocol: h2"), h2.out());
        assertTrue(h2.out().contains("TLSv1.3"), h2.out());
    }

    private static String handshakeProtocol(String protocol) throws Exception {
        try (var s = (javax.net.ssl.SSLSocket) TestTls.trustAll().getSocketFactory().createSocket("127.0.0.1", port())) {
            s.setEnabledProtocols(new String[] {protocol});
            s.startHandshake();
            return s.getSession().getProtocol();
        }
    }

    @Test
    void curlOverTls() throws Exception {
        assumeTrue(TestTls.available("curl"), "curl not installed");
        for (String v : List.of("--http2", "--http1.1")) {
            TestTls.Result r = TestTls.run(List.of("curl", "-sk", v, "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                    "-H", "content-type: application/json", "-d", RawHttp.chatBody("demo", true, 3),
                    "https://127.0.0.1:" + port() + "/v1/chat/completions"), Duration.ofSeconds(30));
            assertEquals(v.equals("--http2") ? "2 200" : "1.1 200", r.out().trim(), r.out());
        }
    }

    @Test
    void h2loadManyStreamsOverOneTlsConnection() throws Exception {
        assumeTrue(TestTls.available("h2load"), "h2load (nghttp2-client) not installed; bin/test installs it");
        Path body = Files.createTempFile("sluice-h2load", ".json");
        Files.writeString(body, RawHttp.chatBody("demo", true, 5));
        TestTls.Result r = TestTls.run(List.of("h2load", "-n", "500", "-c", "1", "-m", "100",
                "-d", body.toString(), "-H", "content-type: application/json",
                "https://127.0.0.1:" + port() + "/v1/chat/completions"), Duration.ofSeconds(120));
        Files.deleteIfExists(body);
        assertTrue(r.out().contains("Application protocol: h2"), r.out());
        assertTrue(r.out().contains("500 succeeded"), r.out());
        assertTrue(r.out().contains("500 2xx"), r.out());
        System.out.println("h2load over TLS, 1 connection, 100 concurrent streams:\n" + r.out());
    }

    @Test
    void changedCertificateServedToNewHandshakesWhileOldConnectionStreams() throws Exception {
        int tokens = 150; // about 3 s of streaming at 20 ms per token
        HttpClient client = TestTls.client(HttpClient.Version.HTTP_2);
        HttpResponse<java.io.InputStream> r = client.send(chat(port(), tokens), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            int events = 0;
            String line;
            while (events < 5 && (line = in.readLine()) != null) {
                events += line.startsWith("data: ") ? 1 : 0;
            }
            X509Certificate renewed = TestTls.writePair(sluice.dir(), "a", "a.test", "localhost");
            certA = renewed;
            Await.until("a new handshake gets the new certificate", Duration.ofSeconds(20), () -> {
                try {
                    return TestTls.handshake(port(), "a.test").getSerialNumber().equals(renewed.getSerialNumber());
                } catch (Exception e) {
                    return false;
                }
            });
            String last = null;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    events++;
                    last = line;
                }
            }
            assertEquals("data: [DONE]", last);
            assertTrue(events >= tokens, "events: " + events);
        }
        assertEquals(certB.getSerialNumber(), TestTls.handshake(port(), "b.test").getSerialNumber());
    }

    @Test
    void brokenCertificateFileKeepsThePreviousOne() throws Exception {
        X509Certificate before = TestTls.handshake(port(), "b.test");
        Files.writeString(sluice.file("b.crt"), "not a certificate");
        // Nothing to wait for that would prove a failed reload; a new good pair must be picked up after it.
        assertEquals(before.getSerialNumber(), TestTls.handshake(port(), "b.test").getSerialNumber());
        X509Certificate fixed = TestTls.writePair(sluice.dir(), "b", "b.test", "*.b.test");
        certB = fixed;
        Await.until("the fixed certificate is served", Duration.ofSeconds(20), () -> {
            try {
                return TestTls.handshake(port(), "b.test").getSerialNumber().equals(fixed.getSerialNumber());
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void developmentCertificate() throws Exception {
        X509Certificate dev = TestTls.handshake(sluice.port("dev"), null);
        assertTrue(dev.getSubjectX500Principal().getName().contains("CN=localhost"), dev.getSubjectX500Principal().getName());
        assertEquals(dev.getSubjectX500Principal(), dev.getIssuerX500Principal());
        HttpResponse<String> r = TestTls.client(HttpClient.Version.HTTP_2).send(chat(sluice.port("dev"), 2),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
    }

    @Test
    void plainHttpOnTlsPortFailsCleanly() {
        assertThrows(Exception.class, () -> TestTls.handshake(port(), "a.test", "SSLv3"));
        assertTrue(SSLException.class.isAssignableFrom(javax.net.ssl.SSLHandshakeException.class));
    }
}
