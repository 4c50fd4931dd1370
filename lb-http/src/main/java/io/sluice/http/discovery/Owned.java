package io.sluice.http.discovery;

import io.sluice.core.backend.Backend;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pool members discovery made, by pool and backend id. A name is claimed before its backend is
 * added, so a reload reconciling the pool meanwhile never mistakes the new member for a leftover;
 * it stays held while its backend drains, so the same address coming back waits for that drain
 * instead of clashing with it.
 */
final class Owned {
    private static final Object CLAIMED = new Object();

    private final ConcurrentHashMap<String, Object> byKey = new ConcurrentHashMap<>();

    private static String key(String pool, String id) {
        return pool + '\u0000' + id;
    }

    /** @return false while a backend of that name (still draining) holds it */
    boolean claim(String pool, String id) {
        return byKey.putIfAbsent(key(pool, id), CLAIMED) == null;
    }

    /** The claimed name now has its backend. */
    void bind(Backend b) {
        byKey.replace(key(b.pool(), b.id()), CLAIMED, b);
    }

    /** The backend could not be added after all. */
    void unclaim(String pool, String id) {
        byKey.remove(key(pool, id), CLAIMED);
    }

    /** The backend is gone (drained and removed) or no longer ours to follow. */
    void release(Backend b) {
        byKey.remove(key(b.pool(), b.id()), b);
    }

    boolean owns(Backend b) {
        Object v = byKey.get(key(b.pool(), b.id()));
        return v == b || v == CLAIMED;
    }
}
