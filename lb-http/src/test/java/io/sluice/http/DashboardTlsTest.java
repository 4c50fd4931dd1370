package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** On TLS the dashboard's session cookie is {@code Secure}, over HTTP/1.1 and HTTP/2 alike, and it authorises there too. */
class DashboardTlsTest {
    static final String TOKEN = "dashboard-tls-token-0123456789abc";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("""
                    listeners:
                      - { name: tls, host: 127.0.0.1, port: 0, tls: { self-signed: true }, routes: [ { path: /api/, admin: true } ] }
                    admin: { token: "%s", loopback-without-token: false }
                    pools:
                      vllm: { backends: [ { simulator: { model: demo } } ] }
                    """.formatted(TOKEN))
            .build();

    @Test
    void theCookieIsSecureOnTls() throws Exception {
        for (HttpClient.Version v : new HttpClient.Version[] { HttpClient.Version.HTTP_1_1, HttpClient.Version.HTTP_2 }) {
            HttpClient client = TestTls.client(v);
            String base = "https://127.0.0.1:" + sluice.port("tls");
            HttpResponse<String> login = client.send(HttpRequest.newBuilder(URI.create(base + "/api/ui/login"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + TOKEN + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, login.statusCode(), v + ": " + login.body());
            assertEquals(v, login.version());
            String cookie = login.headers().firstValue("set-cookie").orElseThrow();
            assertTrue(cookie.contains("; Secure") && cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"),
                    v + ": " + cookie);
            Matcher m = Pattern.compile("sluice_session=([A-Za-z0-9_-]+)").matcher(cookie);
            assertTrue(m.find());
            HttpResponse<String> status = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/status"))
                    .header("Cookie", "sluice_session=" + m.group(1)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, status.statusCode(), v + ": " + status.body());
        }
    }
}
