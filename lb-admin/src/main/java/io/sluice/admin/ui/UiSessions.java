package io.sluice.admin.ui;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.sluice.admin.AdminSessions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;

/**
 * The dashboard's sign-in sessions, server side: a random 256-bit id (the cookie's value) to the
 * session's own random CSRF token, in a bounded Caffeine cache that forgets a session
 * {@link #LIFETIME} after sign-in. Nothing of the admin token is kept.
 */
public final class UiSessions implements AdminSessions {
    public static final String COOKIE = "sluice_session";
    public static final Duration LIFETIME = Duration.ofHours(8);
    static final int MAX_SESSIONS = 1000;

    /** GET and POST paths served without credentials; nothing in them is secret. */
    private static final Set<String> PUBLIC_GET = Set.of("/api/ui/login", "/api/ui/login.js", "/api/ui/app.js", "/api/ui/app.css");
    private static final Set<String> PUBLIC_POST = Set.of("/api/ui/login", "/api/ui/logout");

    private final SecureRandom random = new SecureRandom();
    private final Cache<String, Session> sessions;

    /** A signed-in browser: its cookie's id and the token it must echo in {@code X-Sluice-CSRF}. */
    public record Session(String id, String csrf, long createdMillis) {
    }

    public UiSessions() {
        this(LIFETIME);
    }

    UiSessions(Duration lifetime) {
        this(lifetime, com.github.benmanes.caffeine.cache.Ticker.systemTicker());
    }

    UiSessions(Duration lifetime, com.github.benmanes.caffeine.cache.Ticker ticker) {
        sessions = Caffeine.newBuilder().expireAfterWrite(lifetime).maximumSize(MAX_SESSIONS).ticker(ticker)
                .executor(Runnable::run).build();
    }

    public Session create() {
        Session s = new Session(randomId(), randomId(), System.currentTimeMillis());
        sessions.put(s.id(), s);
        return s;
    }

    /** The live session the request's cookie names, or null. */
    public Session find(HttpHeaders headers) {
        for (String line : headers.getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.STRICT.decodeAll(line)) {
                if (COOKIE.equals(c.name())) {
                    Session s = sessions.getIfPresent(c.value());
                    if (s != null) {
                        return s;
                    }
                }
            }
        }
        return null;
    }

    public void invalidate(Session s) {
        sessions.invalidate(s.id());
    }

    @Override
    public void invalidateAll() {
        sessions.invalidateAll();
    }

    @Override
    public boolean isPublic(HttpMethod method, String path) {
        return (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) ? PUBLIC_GET.contains(path)
                : method.equals(HttpMethod.POST) && PUBLIC_POST.contains(path);
    }

    @Override
    public String csrfToken(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.COOKIE)) {
            return null;
        }
        Session s = find(headers);
        return s == null ? null : s.csrf();
    }

    long size() {
        sessions.cleanUp();
        return sessions.estimatedSize();
    }

    private String randomId() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
