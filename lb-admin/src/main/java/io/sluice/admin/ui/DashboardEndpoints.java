package io.sluice.admin.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminAccess;
import io.sluice.admin.AdminException;
import io.sluice.admin.AdminRequest;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.http.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The dashboard: {@code GET /api/ui} (a page, its script and style sheet, from the classpath; the
 * script polls the admin API's JSON endpoints), the sign-in ({@code GET}/{@code POST /api/ui/login},
 * {@code POST /api/ui/logout}, {@code GET /api/ui/session}) and {@code GET /api/v1/errors}.
 *
 * <p>Every dashboard response carries a strict {@code Content-Security-Policy} (scripts, styles and
 * requests from this origin only, no inline script, no framing), {@code X-Content-Type-Options: nosniff}
 * and {@code X-Frame-Options: DENY}. Who may see it is {@link AdminAccess}'s decision, with
 * {@link UiSessions} for the signed-in browsers.
 */
public final class DashboardEndpoints {
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    static final Map<String, String> SECURITY_HEADERS = Map.of(
            "Content-Security-Policy", CSP,
            "X-Content-Type-Options", "nosniff",
            "X-Frame-Options", "DENY",
            "Referrer-Policy", "no-referrer",
            "Cross-Origin-Opener-Policy", "same-origin",
            "Cross-Origin-Resource-Policy", "same-origin");
    private static final String HTML = "text/html; charset=utf-8";
    private static final String JS = "text/javascript; charset=utf-8";
    private static final String CSS = "text/css; charset=utf-8";

    private final AdminAccess access;
    private final UiSessions sessions;
    private final RecentErrors errors;
    private final LoginLimiter limiter = new LoginLimiter();
    private final String index = resource("index.html");
    private final String app = resource("app.js");
    private final String style = resource("app.css");
    private final String login = resource("login.html");
    private final String loginScript = resource("login.js");

    public DashboardEndpoints(AdminAccess access, UiSessions sessions, RecentErrors errors) {
        this.access = access;
        this.sessions = sessions;
        this.errors = errors;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes
                .add(HttpMethod.GET, "/api/ui", r -> file(HTML, index))
                .add(HttpMethod.GET, "/api/ui/app.js", r -> file(JS, app))
                .add(HttpMethod.GET, "/api/ui/app.css", r -> file(CSS, style))
                .add(HttpMethod.GET, "/api/ui/login", r -> file(HTML, login))
                .add(HttpMethod.GET, "/api/ui/login.js", r -> file(JS, loginScript))
                .add(HttpMethod.POST, "/api/ui/login", this::signIn)
                .add(HttpMethod.POST, "/api/ui/logout", this::signOut)
                .add(HttpMethod.GET, "/api/ui/session", this::session)
                .add(HttpMethod.GET, "/api/v1/errors", r -> AdminResponse.ok(errors.json()));
    }

    private static AdminResponse file(String type, String text) {
        return AdminResponse.text(HttpResponseStatus.OK, type, text).headers(SECURITY_HEADERS);
    }

    /** {@code {"token":"…"}}: the admin token, compared in constant time; rate limited per client address. */
    private AdminResponse signIn(AdminRequest r) {
        if (!limiter.allowed(r.client())) {
            throw new AdminException(HttpResponseStatus.TOO_MANY_REQUESTS, "too_many_sign_in_attempts",
                    "too many failed sign-in attempts from this address; try again in " + limiter.retryAfterSeconds() + " s",
                    limiter.retryAfterSeconds());
        }
        if (!access.config().hasToken()) {
            throw new AdminException(HttpResponseStatus.FORBIDDEN, "sign_in_unavailable",
                    "signing in needs admin.token in the config; without it the dashboard is open to loopback clients only");
        }
        String token = null;
        try {
            JsonNode body = r.body().length == 0 ? null : Json.MAPPER.readTree(r.body());
            if (body != null && body.path("token").isTextual()) {
                token = body.get("token").asText();
            }
        } catch (IOException e) {
            token = null;
        }
        if (token == null) {
            throw new AdminException(HttpResponseStatus.BAD_REQUEST, "bad_request", "the body must be {\"token\":\"<admin token>\"}");
        }
        if (!access.tokenMatches(token)) {
            limiter.failed(r.client());
            throw new AdminException(HttpResponseStatus.UNAUTHORIZED, "unauthorized", "wrong admin token");
        }
        limiter.succeeded(r.client());
        UiSessions.Session s = sessions.create();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("signed_in", true);
        body.put("csrf", s.csrf());
        body.put("expires_in_seconds", UiSessions.LIFETIME.toSeconds());
        return AdminResponse.ok(body).headers(SECURITY_HEADERS)
                .header("Set-Cookie", UiSessions.COOKIE + "=" + s.id() + "; Path=/api; Max-Age=" + UiSessions.LIFETIME.toSeconds()
                        + "; HttpOnly; SameSite=Strict" + (r.secure() ? "; Secure" : ""));
    }

    private AdminResponse signOut(AdminRequest r) {
        UiSessions.Session s = sessions.find(r.headers());
        if (s != null) {
            sessions.invalidate(s);
        }
        return AdminResponse.ok(Map.of("signed_in", false)).headers(SECURITY_HEADERS)
                .header("Set-Cookie", UiSessions.COOKIE + "=; Path=/api; Max-Age=0; HttpOnly; SameSite=Strict"
                        + (r.secure() ? "; Secure" : ""));
    }

    /** For the page: whether it runs on a session (then the CSRF token its POSTs must send) or on loopback/token. */
    private AdminResponse session(AdminRequest r) {
        UiSessions.Session s = sessions.find(r.headers());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("signed_in", s != null);
        body.put("csrf", s == null ? null : s.csrf());
        body.put("sign_in_available", access.config().hasToken());
        return AdminResponse.ok(body).headers(SECURITY_HEADERS);
    }

    private static String resource(String name) {
        try (InputStream in = DashboardEndpoints.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource io/sluice/admin/ui/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
