package io.sluice.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/** Thrown by an endpoint to answer with a gateway error (status, code, message). */
public final class AdminException extends RuntimeException {
    private final HttpResponseStatus status;
    private final String code;
    private final long retryAfterSeconds;

    public AdminException(HttpResponseStatus status, String code, String message) {
        this(status, code, message, 0);
    }

    /** @param retryAfterSeconds sent as {@code Retry-After} when positive (a 429 or 503 the client may retry) */
    public AdminException(HttpResponseStatus status, String code, String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String code() {
        return code;
    }
}
