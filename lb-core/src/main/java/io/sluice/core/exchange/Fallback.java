package io.sluice.core.exchange;

import io.netty.handler.codec.http.HttpRequest;

/**
 * The next place to try when an attempt failed before any of its response reached the client (a
 * model group's next member). The proxy asks it on a connect failure, no free backend, a full queue,
 * a timeout before the head, or a 5xx or 429 head.
 */
public interface Fallback {

    /**
     * @param status the status the failed attempt would have answered (its upstream's, or Sluice's)
     * @param reason Sluice's error code or the upstream status, for the log
     * @return the request for the next attempt (owned by the caller), after setting the context's target
     *         and relay for it; null when there is nothing left to try
     */
    HttpRequest next(RequestContext rc, int status, String reason);

    /** True for the statuses a fallback moves on from. */
    static boolean movesOn(int status) {
        return status == 429 || status >= 500;
    }
}
