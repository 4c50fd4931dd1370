package io.sluice.http.server;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;

/**
 * "Is this port already served?" before binding it with {@code SO_REUSEPORT}, which would otherwise
 * let a second Sluice share it silently.
 *
 * <p>The check binds a socket that never listens. A listening probe (a {@code ServerSocket}) accepted
 * connections for the instant it existed and reset them when it closed, and a client waiting for the
 * port to open saw it open before Sluice served it (a CI run connected, then was refused).
 * {@code SO_REUSEADDR} keeps the previous process's {@code TIME_WAIT} connections from failing a restart;
 * only a listening socket on the port makes the bind fail.
 */
final class PortCheck {
    private PortCheck() {
    }

    static void requireFree(String host, int port) throws IOException {
        try (SocketChannel probe = SocketChannel.open()) {
            probe.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            BindException named = new BindException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
            named.initCause(e);
            throw named;
        }
    }
}
