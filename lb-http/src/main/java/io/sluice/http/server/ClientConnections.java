package io.sluice.http.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The open client connections of the gateway (or of its warm-up), to drain and close them. Unlike a
 * {@code DefaultChannelGroup} it adds no close listener of its own: {@link ListenerInitializer}'s one
 * shared listener removes a closed connection and counts it, so a connection's close future holds a
 * single listener instead of an array of three (56 bytes per idle connection).
 */
final class ClientConnections implements Iterable<Channel> {
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();

    /** Called on the connection's loop once its close listener is in place. */
    void add(Channel ch) {
        open.add(ch);
        if (!ch.isOpen()) {
            open.remove(ch); // closed before it was added: its listener has run already
        }
    }

    void remove(Channel ch) {
        open.remove(ch);
    }

    int size() {
        return open.size();
    }

    @Override
    public Iterator<Channel> iterator() {
        return open.iterator();
    }

    /** Closes every connection (each on its own loop) and waits up to the timeout for all of them. */
    void closeAll(long timeout, TimeUnit unit) {
        List<ChannelFuture> closing = new ArrayList<>(open.size());
        for (Channel ch : open) {
            closing.add(ch.close());
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (ChannelFuture f : closing) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !f.awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
                return;
            }
        }
    }
}
