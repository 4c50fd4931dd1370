package io.sluice.http.h2;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the upstream connections HTTP/2 streams hold: each proxied stream has one of its own, so
 * without a bound one client connection could make Sluice open as many upstream connections as it
 * may open streams, and a few clients could take every descriptor. Counted per client connection (on
 * its event loop, which its streams share) and over the listener.
 */
public final class StreamBudget {
    private static final AttributeKey<int[]> IN_USE = AttributeKey.valueOf("sluice.h2.upstreams");
    private volatile int perConnection;
    private volatile int total;
    private final AtomicInteger used = new AtomicInteger();

    public StreamBudget(int perConnection, int total) {
        this.perConnection = perConnection;
        this.total = total;
    }

    /** New bounds from a reload; slots already taken stay taken. */
    public void limits(int perConnection, int total) {
        this.perConnection = perConnection;
        this.total = total;
    }

    /** Takes a slot for {@code stream}'s upstream attempt; false when a bound is reached. Call on its event loop. */
    public boolean tryTake(Channel stream) {
        int[] n = counter(stream.parent());
        if (n[0] >= perConnection) {
            return false;
        }
        if (used.incrementAndGet() > total) {
            used.decrementAndGet();
            return false;
        }
        n[0]++;
        return true;
    }

    /** Gives back a slot taken by {@link #tryTake}. */
    public void release(Channel stream) {
        counter(stream.parent())[0]--;
        used.decrementAndGet();
    }

    private static int[] counter(Channel connection) {
        int[] n = connection.attr(IN_USE).get();
        if (n == null) {
            n = new int[1];
            connection.attr(IN_USE).set(n);
        }
        return n;
    }

    public int inUse() {
        return used.get();
    }
}
