package io.sluice.admin.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.sluice.core.observe.Exchange;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The dashboard's server-side state: sessions (ids, expiry, public paths), the sign-in limiter, the errors ring. */
class DashboardStateTest {

    private static HttpHeaders cookie(String value) {
        return new DefaultHttpHeaders().add("cookie", "theme=dark; " + UiSessions.COOKIE + "=" + value);
    }

    @Test
    void sessionsAreRandomAndExpire() {
        AtomicLong now = new AtomicLong();
        UiSessions sessions = new UiSessions(Duration.ofHours(8), now::get);
        UiSessions.Session a = sessions.create();
        UiSessions.Session b = sessions.create();
        assertEquals(43, a.id().length());
        assertNotEquals(a.id(), b.id());
        assertNotEquals(a.id(), a.csrf());
        assertEquals(a.csrf(), sessions.csrfToken(cookie(a.id())));
        assertNull(sessions.csrfToken(cookie(a.id() + "x")));
        assertNull(sessions.csrfToken(new DefaultHttpHeaders()));

        sessions.invalidate(b);
        assertNull(sessions.find(cookie(b.id())), "logged out");
        now.addAndGet(Duration.ofHours(8).plusSeconds(1).toNanos());
        assertNull(sessions.find(cookie(a.id())), "expired");
        assertEquals(0, sessions.size());
    }

    @Test
    void onlyTheSignInAndTheStaticFilesArePublic() {
        UiSessions s = new UiSessions();
        assertTrue(s.isPublic(HttpMethod.GET, "/api/ui/login"));
        assertTrue(s.isPublic(HttpMethod.GET, "/api/ui/app.js"));
        assertTrue(s.isPublic(HttpMethod.POST, "/api/ui/login"));
        assertFalse(s.isPublic(HttpMethod.GET, "/api/ui"), "the page itself needs credentials");
        assertFalse(s.isPublic(HttpMethod.GET, "/api/ui/session"));
        assertFalse(s.isPublic(HttpMethod.POST, "/api/ui/app.js"));
        assertFalse(s.isPublic(HttpMethod.GET, "/api/v1/status"));
    }

    @Test
    void signInIsLimitedPerAddress() {
        LoginLimiter l = new LoginLimiter();
        for (int i = 0; i < LoginLimiter.MAX_ATTEMPTS; i++) {
            assertTrue(l.allowed("10.0.0.1"));
            l.failed("10.0.0.1");
        }
        assertFalse(l.allowed("10.0.0.1"));
        assertTrue(l.allowed("10.0.0.2"), "another address is not affected");
        l.succeeded("10.0.0.2");
        assertFalse(l.allowed("10.0.0.1"));
    }

    @Test
    void recentErrorsKeepTheLastFiftyNewestFirst() {
        RecentErrors errors = new RecentErrors();
        Exchange ok = new Exchange();
        ok.status = 200;
        errors.onExchangeEnd(ok);
        Exchange notFound = new Exchange();
        notFound.status = 404; // the backend's own 404: not a gateway error
        errors.onExchangeEnd(notFound);
        assertEquals(0, errors.total());
        for (int i = 0; i < 60; i++) {
            Exchange e = new Exchange();
            e.status = i % 2 == 0 ? 502 : 503;
            e.gatewayError = i % 2 == 0 ? "upstream_connect_failed" : null;
            e.route = "/v1/";
            e.backend = "b" + i;
            e.path = "/v1/chat/completions?key=secret";
            errors.onExchangeEnd(e);
        }
        List<RecentErrors.Entry> list = errors.entries();
        assertEquals(RecentErrors.CAPACITY, list.size());
        assertEquals(60, errors.total());
        assertEquals("b59", list.get(0).backend());
        assertEquals("upstream_503", list.get(0).code());
        assertEquals("upstream_connect_failed", list.get(1).code());
        assertEquals("b10", list.get(list.size() - 1).backend());
        assertFalse(errors.json().toString().contains("secret"), "no paths, queries or keys");
    }
}
