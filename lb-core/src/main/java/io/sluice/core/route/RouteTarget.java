package io.sluice.core.route;

/**
 * Where a request goes once its route is known: one sealed type, so that a new kind of target is a
 * new case here and in the one place that starts targets, not another handler asking "is this mine?".
 */
public sealed interface RouteTarget {

    /** A pool of backends; the request is proxied. */
    record Pool(String name) implements RouteTarget {
    }

    /**
     * Answered by Sluice itself: the admin API ({@code open} false, behind {@code AdminAccess}), or
     * one of the few public endpoints it answers on proxied routes, such as {@code GET /v1/models}.
     */
    record Admin(boolean open) implements RouteTarget {
        public static final Admin API = new Admin(false);
        public static final Admin PUBLIC = new Admin(true);
    }

    /** Files under a directory ({@code static:}). */
    record Static(io.sluice.core.config.StaticConfig config) implements RouteTarget {
    }

    /** One of Sluice's built-in services ({@code service:}, {@link io.sluice.core.config.ServicesConfig#NAMES}). */
    record Service(String name) implements RouteTarget {
    }
}
