package io.sluice.http.pool;

import java.io.IOException;

/**
 * A TLS handshake with a backend failed, or could not be started. The message is for the client
 * and the log ("TLS handshake with backend b1 failed: certificate not trusted"); it never carries a
 * stack trace. The handshake's own exception is the cause, for debugging.
 */
public final class UpstreamTlsException extends IOException {
    private final String reason;

    public UpstreamTlsException(String backend, String reason, Throwable cause) {
        super("TLS handshake with backend " + backend + " failed: " + reason, cause);
        this.reason = reason;
    }

    /** Why, without the backend: "certificate not trusted", "certificate name does not match 'x'", … */
    public String reason() {
        return reason;
    }
}
