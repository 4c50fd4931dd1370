package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.sim.SimulatorOptions;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The dashboard's access over real sockets, with loopback-without-token off (so only the token or a
 * session cookie gets in, as for a remote operator): security headers on the page and its files,
 * sign-in, the cookie's attributes, the cookie authorising the admin API's GETs but a POST only with
 * the session's CSRF header and a same-origin Origin, logout, rebinding, the sign-in rate limit.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardAccessTest {
    static final String TOKEN = "dashboard-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SESSION = Pattern.compile("sluice_session=([A-Za-z0-9_-]+)");

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension(config(TOKEN), SimulatorOptions.defaults(), SimulatorOptions.defaults());

    static String config(String token) {
        return """
                listeners:
                  - port: 0
                    host: 127.0.0.1
                    routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
                pools:
                  vllm:
                    backends: [ { url: "http://127.0.0.1:${SIM0}", name: a }, { url: "http://127.0.0.1:${SIM1}", name: b } ]
                admin: { token: "%s", loopback-without-token: false }
                """.formatted(token);
    }

    /** One request on a fresh connection; {@code headers} may set Host (else localhost:port). */
    static RawHttp.Response call(String method, String path, String json, String... headers) throws Exception {
        StringBuilder h = new StringBuilder();
        boolean host = false;
        for (String line : headers) {
            host |= line.regionMatches(true, 0, "Host:", 0, 5);
            h.append(line).append("\r\n");
        }
        if (!host) {
            h.append("Host: localhost:").append(sluice.port()).append("\r\n");
        }
        byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
        if (json != null) {
            h.append("Content-Type: application/json\r\n");
        }
        h.append("Content-Length: ").append(body.length).append("\r\n");
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw(method + " " + path + " HTTP/1.1\r\n" + h + "\r\n" + (json == null ? "" : json));
            return c.exchange();
        }
    }

    record Session(String cookie, String csrf) {
    }

    static Session signIn() throws Exception {
        RawHttp.Response r = call("POST", "/api/ui/login", "{\"token\":\"" + TOKEN + "\"}");
        assertEquals(200, r.status(), r.body().text());
        Matcher m = SESSION.matcher(r.header("set-cookie"));
        assertTrue(m.find(), r.header("set-cookie"));
        return new Session("Cookie: sluice_session=" + m.group(1), JSON.readTree(r.body().text()).path("csrf").asText());
    }

    static void assertSecurityHeaders(RawHttp.Response r) {
        String csp = r.header("content-security-policy");
        assertNotNull(csp, "Content-Security-Policy");
        assertTrue(csp.contains("default-src 'none'") && csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'"), csp);
        assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval") || csp.contains("http"), csp);
        assertEquals("nosniff", r.header("x-content-type-options"));
        assertEquals("DENY", r.header("x-frame-options"));
    }

    @Test
    @Order(1)
    void pageAndFilesCarryTheSecurityHeaders() throws Exception {
        for (String[] f : new String[][] { { "/api/ui/app.js", "text/javascript" }, { "/api/ui/app.css", "text/css" },
                { "/api/ui/login", "text/html" }, { "/api/ui/login.js", "text/javascript" } }) {
            RawHttp.Response r = call("GET", f[0], null);
            assertEquals(200, r.status(), f[0]);
            assertTrue(r.header("content-type").startsWith(f[1]), f[0] + ": " + r.header("content-type"));
            assertSecurityHeaders(r);
        }
        RawHttp.Response anonymous = call("GET", "/api/ui", null);
        assertEquals(303, anonymous.status(), "without credentials the page sends a browser to the sign-in form");
        assertEquals("/api/ui/login", anonymous.header("location"));
        assertEquals(401, call("GET", "/api/v1/status", null).status(), "the data needs credentials");

        RawHttp.Response page = call("GET", "/api/ui", null, "Authorization: Bearer " + TOKEN);
        assertEquals(200, page.status());
        assertTrue(page.header("content-type").startsWith("text/html"));
        assertSecurityHeaders(page);
        String html = page.body().text();
        assertTrue(html.contains("<script src=\"/api/ui/app.js\""), "the script is a file of its own");
        assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)[^>]*>").matcher(html).find(), "no inline script");
        assertFalse(html.contains("http://") || html.contains("https://"), "nothing from another origin (no CDN)");
    }

    @Test
    @Order(2)
    void signInSetsAnHttpOnlySameSiteStrictCookieThatAuthorisesGets() throws Exception {
        RawHttp.Response r = call("POST", "/api/ui/login", "{\"token\":\"" + TOKEN + "\"}");
        assertEquals(200, r.status(), r.body().text());
        assertSecurityHeaders(r);
        String cookie = r.header("set-cookie");
        assertTrue(cookie.contains("; HttpOnly"), cookie);
        assertTrue(cookie.contains("; SameSite=Strict"), cookie);
        assertTrue(cookie.contains("; Path=/api"), cookie);
        assertFalse(cookie.contains("Secure"), "not on plain HTTP: " + cookie);
        Matcher m = SESSION.matcher(cookie);
        assertTrue(m.find());
        assertEquals(43, m.group(1).length(), "256 random bits, base64url");
        assertFalse(r.body().text().contains(TOKEN));

        String c = "Cookie: sluice_session=" + m.group(1);
        assertEquals(200, call("GET", "/api/v1/status", null, c).status());
        assertEquals(200, call("GET", "/api/v1/stats", null, c).status());
        assertEquals(200, call("GET", "/api/v1/backends", null, c).status());
        RawHttp.Response page = call("GET", "/api/ui", null, c);
        assertEquals(200, page.status());
        assertSecurityHeaders(page);
        JsonNode session = JSON.readTree(call("GET", "/api/ui/session", null, c).body().text());
        assertTrue(session.path("signed_in").asBoolean());
        assertEquals(JSON.readTree(r.body().text()).path("csrf").asText(), session.path("csrf").asText());
        assertEquals(401, call("GET", "/api/v1/status", null, "Cookie: sluice_session=" + "A".repeat(43)).status(),
                "an unknown session id is no session");
    }

    @Test
    @Order(3)
    void aCookieAuthorisedPostNeedsTheCsrfHeaderAndASameOrigin() throws Exception {
        Session s = signIn();
        String origin = "Origin: http://localhost:" + sluice.port();
        RawHttp.Response none = call("POST", "/api/v1/backends/a/drain", null, s.cookie(), origin);
        assertEquals(403, none.status());
        assertEquals("csrf_token_missing", none.header("x-sluice-error"));
        RawHttp.Response wrong = call("POST", "/api/v1/backends/a/drain", null, s.cookie(), origin, "X-Sluice-CSRF: " + s.csrf() + "x");
        assertEquals(403, wrong.status());
        assertEquals("csrf_token_missing", wrong.header("x-sluice-error"));
        RawHttp.Response foreign = call("POST", "/api/v1/backends/a/drain", null, s.cookie(),
                "Origin: https://evil.example", "X-Sluice-CSRF: " + s.csrf());
        assertEquals(403, foreign.status());
        assertEquals("cross_site_request", foreign.header("x-sluice-error"));
        assertFalse(sluice.backend(0).isDraining(), "nothing refused reached the endpoint");

        RawHttp.Response ok = call("POST", "/api/v1/backends/a/drain", null, s.cookie(), origin, "X-Sluice-CSRF: " + s.csrf());
        assertEquals(200, ok.status(), ok.body().text());
        assertTrue(sluice.backend(0).isDraining());
        assertEquals(200, call("POST", "/api/v1/backends/a/enable", null, s.cookie(), "X-Sluice-CSRF: " + s.csrf()).status());
        assertFalse(sluice.backend(0).isDraining());
    }

    @Test
    @Order(4)
    void aRebindingHostIsRefusedEvenWithTheCookie() throws Exception {
        Session s = signIn();
        String evil = "Host: rebound.example:" + sluice.port();
        RawHttp.Response status = call("GET", "/api/v1/status", null, s.cookie(), evil);
        assertEquals(403, status.status());
        assertEquals("host_not_allowed", status.header("x-sluice-error"));
        assertEquals(403, call("GET", "/api/ui", null, s.cookie(), evil).status());
        assertEquals(403, call("GET", "/api/ui/login", null, evil).status(), "not even the sign-in form");
        assertEquals(403, call("POST", "/api/ui/login", "{\"token\":\"" + TOKEN + "\"}", evil).status());
        assertEquals(200, call("GET", "/api/v1/status", null, s.cookie(), "Host: 127.0.0.1:" + sluice.port()).status());
    }

    @Test
    @Order(5)
    void logoutEndsTheSession() throws Exception {
        Session s = signIn();
        assertEquals(200, call("GET", "/api/v1/status", null, s.cookie()).status());
        RawHttp.Response out = call("POST", "/api/ui/logout", null, s.cookie(), "X-Sluice-CSRF: " + s.csrf());
        assertEquals(200, out.status());
        assertTrue(out.header("set-cookie").contains("Max-Age=0"), out.header("set-cookie"));
        assertEquals(401, call("GET", "/api/v1/status", null, s.cookie()).status(), "the server forgot the session");
        assertEquals(401, call("POST", "/api/v1/backends/a/drain", null, s.cookie(), "X-Sluice-CSRF: " + s.csrf()).status());
    }

    @Test
    @Order(6)
    void recentErrorsAreListedWithoutSecrets() throws Exception {
        call("GET", "/api/v1/status?secret=s3cr3t", null, "Authorization: Bearer wrong-" + TOKEN);
        RawHttp.Response r = call("GET", "/api/v1/errors", null, "Authorization: Bearer " + TOKEN);
        assertEquals(200, r.status());
        JsonNode errors = JSON.readTree(r.body().text()).path("errors");
        assertTrue(errors.size() >= 1 && errors.size() <= 50, errors.toString());
        JsonNode newest = errors.get(0);
        assertEquals(401, newest.path("status").asInt(), newest.toString());
        assertEquals("unauthorized", newest.path("code").asText());
        assertEquals("/api/", newest.path("route").asText());
        assertFalse(r.body().text().contains("s3cr3t") || r.body().text().contains(TOKEN), r.body().text());
    }

    @Test
    @Order(7)
    void aReloadThatChangesTheTokenEndsEverySession() throws Exception {
        Session s = signIn();
        String unchanged = config(TOKEN) + "# a comment\n";
        sluice.reload(unchanged);
        assertEquals(200, call("GET", "/api/v1/status", null, s.cookie()).status(), "the same token: sessions stay");
        sluice.reload(config(TOKEN + "-rotated"));
        try {
            assertEquals(401, call("GET", "/api/v1/status", null, s.cookie()).status(), "signed in with the old token");
        } finally {
            sluice.reload(config(TOKEN));
        }
    }

    @Test
    @Order(8)
    void aWrongTokenFailsAndSignInIsRateLimitedPerAddress() throws Exception {
        for (int i = 0; i < 5; i++) {
            RawHttp.Response wrong = call("POST", "/api/ui/login", "{\"token\":\"" + TOKEN + "-" + i + "\"}");
            assertEquals(401, wrong.status(), "attempt " + i);
            assertTrue(wrong.header("set-cookie") == null);
        }
        RawHttp.Response limited = call("POST", "/api/ui/login", "{\"token\":\"" + TOKEN + "\"}");
        assertEquals(429, limited.status(), "after five failures even the right token waits");
        assertEquals("too_many_sign_in_attempts", limited.header("x-sluice-error"));
        long retry = Long.parseLong(limited.header("retry-after"));
        assertTrue(retry > 0 && retry <= 60, "Retry-After within the window: " + retry);
        assertTrue(limited.header("set-cookie") == null);
    }
}
