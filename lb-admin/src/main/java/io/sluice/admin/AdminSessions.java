package io.sluice.admin;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;

/**
 * Browser sessions of the admin API (the dashboard's sign-in, {@code io.sluice.admin.ui}), as
 * {@link AdminAccess} consults them: which paths need no credentials, and the session a request's
 * cookie names.
 */
public interface AdminSessions {
    /** No sessions: every admin path needs the token or loopback. */
    AdminSessions NONE = new AdminSessions() {
        @Override
        public boolean isPublic(HttpMethod method, String path) {
            return false;
        }

        @Override
        public String csrfToken(HttpHeaders headers) {
            return null;
        }

        @Override
        public void invalidateAll() {
        }
    };

    /** Served without credentials (the sign-in form and the dashboard's static files); the Host check still applies. */
    boolean isPublic(HttpMethod method, String path);

    /** The CSRF token of the live session the request's cookie names, or null when it names none. */
    String csrfToken(HttpHeaders headers);

    /** Ends every session (the admin token changed). */
    void invalidateAll();
}
