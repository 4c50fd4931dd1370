package io.sluice.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The "already served?" check before an SO_REUSEPORT bind, on real loopback sockets. */
class PortCheckTest {

    @Test
    void aListeningPortIsRefusedWithItsAddress() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            BindException e = assertThrows(BindException.class, () -> PortCheck.requireFree("127.0.0.1", taken.getLocalPort()));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
    }

    /** A restart: the last process closed its connections first, so they sit in TIME_WAIT on the port. */
    @Test
    void aPortWithTimeWaitConnectionsButNoListenerIsFree() throws IOException {
        int port;
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            port = server.getLocalPort();
            for (int i = 0; i < 3; i++) {
                try (Socket client = new Socket("127.0.0.1", port); Socket accepted = server.accept()) {
                    accepted.close(); // the server side closes first: its end goes to TIME_WAIT
                    assertEquals(-1, client.getInputStream().read());
                }
            }
        }
        PortCheck.requireFree("127.0.0.1", port);
    }

    /**
     * The check must never accept a connection: a client that connects while it runs would be reset,
     * and one waiting for the port to open would think it served. With a listening probe this test saw
     * connections accepted within a few hundred checks.
     */
    @Test
    void theCheckNeverAcceptsAConnection() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger attempts = new AtomicInteger();
        Thread client = new Thread(() -> {
            while (!done.get() && attempts.incrementAndGet() < 2_000_000) {
                try (Socket c = new Socket()) {
                    c.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                    if (c.getLocalPort() != port) { // not a TCP self-connect
                        accepted.incrementAndGet();
                    }
                } catch (IOException refused) {
                    // what a port nobody serves does
                }
            }
        }, "connector");
        client.start();
        try {
            for (int i = 0; i < 3000; i++) {
                PortCheck.requireFree("127.0.0.1", port);
            }
        } finally {
            done.set(true);
            client.join(10_000);
        }
        assertTrue(attempts.get() > 100, "the connector ran: " + attempts.get());
        assertEquals(0, accepted.get(), "connections accepted by the check, of " + attempts.get() + " attempts");
    }
}
