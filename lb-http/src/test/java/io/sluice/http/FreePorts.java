package io.sluice.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Loopback ports for tests that must name a port before anything listens on it.
 *
 * <p>{@link #next()} never returns a port twice in one test JVM: the kernel may give the same
 * ephemeral port to two probes in a row once the first is closed, and CI saw two replicas handed one
 * port that way. {@link #refusing()} is for a backend that must be down: the port stays bound (not
 * listening) for the JVM's life, so connections are refused and nothing else can take it.
 */
public final class FreePorts {
    private static final Set<Integer> handedOut = new HashSet<>();
    private static final List<SocketChannel> held = new ArrayList<>();

    private FreePorts() {
    }

    /** A port nothing listens on now, for a process the test is about to start. */
    public static synchronized int next() {
        for (int attempt = 0; attempt < 64; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (handedOut.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no new free port in 64 attempts");
    }

    /** A loopback port that refuses connections until this JVM exits. */
    public static synchronized int refusing() {
        try {
            SocketChannel ch = SocketChannel.open();
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            held.add(ch);
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            handedOut.add(port);
            return port;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
