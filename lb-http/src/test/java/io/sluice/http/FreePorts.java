package io.sluice.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Loopback ports for tests that must name a port before anything listens on it.
 *
 * <p>{@link #next()} never returns a port twice in one test JVM: the kernel may give the same
 * ephemeral port to two probes in a row once the first is closed, and CI saw two replicas handed one
 * port that way. It also picks below the kernel's ephemeral range
 * ({@code net.ipv4.ip_local_port_range}), so a {@code port: 0} bind in the process the port is meant
 * for (a simulator starting before the listener) cannot be given it first: CI saw that too.
 * {@link #refusing()} is for a backend that must be down: the port stays bound (not listening) for
 * the JVM's life, so connections are refused and nothing else can take it.
 */
public final class FreePorts {
    private static final Set<Integer> handedOut = new HashSet<>();
    private static final List<SocketChannel> held = new ArrayList<>();
    /** Below the usual services' ports (8000s, 9000s) is busier; above 20000 is quiet on CI machines. */
    private static final int LOWEST = 20000;
    private static final Random random = new Random();

    private FreePorts() {
    }

    /** A port nothing listens on now, for a process the test is about to start. */
    public static synchronized int next() {
        int ephemeralLow = ephemeralLow();
        for (int attempt = 0; ephemeralLow > LOWEST + 1000 && attempt < 256; attempt++) {
            int port = LOWEST + random.nextInt(ephemeralLow - LOWEST);
            if (!handedOut.contains(port) && bindable(port)) {
                handedOut.add(port);
                return port;
            }
        }
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

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first port the kernel hands out for {@code port: 0}; 0 when unknown (not Linux). */
    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
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
