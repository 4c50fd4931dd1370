package io.sluice.http.services;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.sluice.core.http.Json;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket connection of a built-in service. Sends may come from any event loop (another
 * connection's message); a connection whose unwritable backlog passed its water mark (a stalled
 * browser) is dropped instead of queueing more, so one slow consumer cannot grow memory.
 */
final class Peer {
    private static final Logger log = LoggerFactory.getLogger(Peer.class);
    final Channel channel;
    private final AtomicBoolean dropped = new AtomicBoolean();
    /** Hub state of this connection, guarded by the hub's lock. */
    Object state;

    Peer(Channel channel) {
        this.channel = channel;
    }

    /** @return false when the peer is gone or was dropped as a slow consumer */
    boolean send(String json) {
        if (!channel.isActive() || dropped.get()) {
            return false;
        }
        if (!channel.isWritable()) {
            if (dropped.compareAndSet(false, true)) {
                log.debug("{}: outbound backlog over its bound; dropping a slow consumer", channel);
                channel.close();
            }
            return false;
        }
        channel.writeAndFlush(new TextWebSocketFrame(json), channel.voidPromise());
        return true;
    }

    void error(String message) {
        send("{\"type\":\"error\",\"message\":" + Json.quote(message) + "}");
    }

    void close(int code, String reason) {
        channel.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }
}
