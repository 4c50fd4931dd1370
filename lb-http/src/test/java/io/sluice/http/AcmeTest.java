package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.SluiceConfig;
import io.sluice.http.server.SluiceServer;
import io.sluice.http.tls.Pem;
import io.sluice.http.tls.SelfSigned;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ACME for real, against Pebble (Let's Encrypt's test CA) on loopback: pebble-challtestsrv answers
 * its DNS with 127.0.0.1, so Pebble validates HTTP-01 against Sluice's redirecting listener.
 */
class AcmeTest {
    static final String DOMAIN = "sluice.test";
    static final List<Process> processes = new ArrayList<>();
    static Path dir;
    static VllmSimulator sim;
    static int pebblePort;
    static int httpPort;
    static int httpsPort;

    @BeforeAll
    static void startPebble() throws Exception {
        // Read once per JVM by the JDK HttpClient: set before acme4j creates its first client.
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        assumeTrue(TestTls.available("pebble") && TestTls.available("pebble-challtestsrv"),
                "pebble is not installed (Debian package pebble; bin/test installs it)");
        dir = Files.createTempDirectory("sluice-acme");
        SelfSigned.Certificate ca = SelfSigned.create(List.of("localhost", "127.0.0.1"), Duration.ofDays(2));
        Pem.writeAtomically(dir.resolve("pebble.crt"), Pem.toPem(ca.cert()));
        Pem.writeAtomically(dir.resolve("pebble.key"), Pem.toPem(ca.keys().getPrivate()));
        pebblePort = freePort();
        int pebbleMgmt = freePort();
        int dnsPort = freePort();
        int dnsMgmt = freePort();
        httpPort = freePort();
        httpsPort = freePort();
        Files.writeString(dir.resolve("pebble.json"), """
                {"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
                  "certificate": "%s", "privateKey": "%s", "httpPort": %d, "tlsPort": %d,
                  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
                """.formatted(pebblePort, pebbleMgmt, dir.resolve("pebble.crt"), dir.resolve("pebble.key"), httpPort, httpsPort));
        start(List.of("pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                "-dns01", "127.0.0.1:" + dnsPort, "-http01", "", "-https01", "", "-tlsalpn01", "",
                "-management", "127.0.0.1:" + dnsMgmt), "challtestsrv.log");
        start(List.of("pebble", "-config", dir.resolve("pebble.json").toString(), "-dnsserver", "127.0.0.1:" + dnsPort),
                "pebble.log");
        Await.until("pebble listens", Duration.ofSeconds(30), () -> listening(pebblePort) && listening(dnsMgmt));
        sim = VllmSimulator.start(SimulatorOptions.builder().model("demo").build());
    }

    private static void start(List<String> command, String logName) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(logName).toFile());
        pb.environment().put("PEBBLE_VA_NOSLEEP", "1");      // no random validation delays
        pb.environment().put("PEBBLE_WFE_NONCEREJECT", "0"); // no deliberately rejected nonces
        processes.add(pb.start());
    }

    @AfterAll
    static void stopPebble() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (sim != null) {
            sim.close();
        }
    }

    static int freePort() {
        return FreePorts.next();
    }

    static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static SluiceServer sluice(String renewBefore) throws Exception {
        return sluice(renewBefore, "http-01", "acme", """
                  - name: http
                    host: 127.0.0.1
                    port: ${HTTP}
                    redirect-to-https: ${HTTPS}
                """);
    }

    static SluiceServer sluice(String renewBefore, String challenge, String storage, String moreListeners) throws Exception {
        Map<String, String> env = Map.of("DIR", dir.toString(), "PEBBLE", String.valueOf(pebblePort),
                "HTTP", String.valueOf(httpPort), "HTTPS", String.valueOf(httpsPort), "SIM", String.valueOf(sim.port()),
                "RENEW", renewBefore, "CHALLENGE", challenge, "STORAGE", storage);
        SluiceConfig config = ConfigLoader.parse("""
                listeners:
                  - name: https
                    host: 127.0.0.1
                    port: ${HTTPS}
                    tls:
                      acme:
                        directory: "https://127.0.0.1:${PEBBLE}/dir"
                        email: ops@sluice.test
                        domains: [sluice.test]
                        storage: "${DIR}/${STORAGE}"
                        challenge: ${CHALLENGE}
                        trusted-ca: "${DIR}/pebble.crt"
                        renew-before: ${RENEW}
                        check-interval: 1s
                    routes: [{ path: /v1/, pool: vllm }]
                """ + moreListeners + """
                pools:
                  vllm: { backends: [{ url: "http://127.0.0.1:${SIM}" }] }
                """, "acme.yaml", env::get);
        return SluiceServer.start(config);
    }

    static X509Certificate served() {
        try {
            return TestTls.handshake(httpsPort, DOMAIN);
        } catch (Exception e) {
            return null;
        }
    }

    static boolean fromPebble(X509Certificate c) {
        return c != null && c.getIssuerX500Principal().getName().contains("Pebble");
    }

    @Test
    void issuesRenewsLiveAndReusesStoredCertificate() throws Exception {
        BigInteger first;
        BigInteger renewed;
        // A renewal window longer than any certificate's life: every check (1 s) renews.
        try (SluiceServer s = sluice("36500d")) {
            AtomicReference<X509Certificate> got = new AtomicReference<>();
            Await.until("a certificate from Pebble is served", Duration.ofSeconds(90), () -> {
                got.set(served());
                return fromPebble(got.get());
            });
            first = got.get().getSerialNumber();
            assertTrue(Pem.names(got.get()).contains(DOMAIN), Pem.names(got.get()).toString());
            // An open connection from before the renewal keeps working after it.
            HttpClient client = TestTls.client(HttpClient.Version.HTTP_2);
            assertEquals(200, client.send(TlsTest.chat(httpsPort, 2), HttpResponse.BodyHandlers.ofString()).statusCode());
            Await.until("a renewed certificate is served", Duration.ofSeconds(90), () -> {
                X509Certificate c = served();
                return fromPebble(c) && !c.getSerialNumber().equals(first);
            });
            assertEquals(200, client.send(TlsTest.chat(httpsPort, 2), HttpResponse.BodyHandlers.ofString()).statusCode());
            // The plain listener still redirects everything that is not a challenge.
            try (RawHttp c = new RawHttp(httpPort)) {
                c.get("/.well-known/acme-challenge/unknown-token");
                assertEquals(308, c.readHead().status());
            }
        }
        // Restarted with a normal window: the stored certificate is served at once, nothing is ordered.
        X509Certificate stored = Pem.readChain(dir.resolve("acme/sluice.test.crt.pem"))[0];
        renewed = stored.getSerialNumber();
        assertNotEquals(first, renewed);
        try (SluiceServer s = sluice("1d")) {
            assertEquals(renewed, TestTls.handshake(httpsPort, DOMAIN).getSerialNumber());
            assertTrue(Files.exists(dir.resolve("acme/account.pem")));
        }
    }

    @Test
    void tlsAlpn01WithoutAPlainListener() throws Exception {
        try (SluiceServer s = sluice("1d", "tls-alpn-01", "acme-alpn", "")) {
            Await.until("a certificate from Pebble is served (validated over TLS-ALPN-01)", Duration.ofSeconds(90),
                    () -> fromPebble(served()));
            HttpClient client = TestTls.client(HttpClient.Version.HTTP_2);
            assertEquals(200, client.send(TlsTest.chat(httpsPort, 2), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
        assertTrue(Files.exists(dir.resolve("acme-alpn/sluice.test.crt.pem")));
    }
}
