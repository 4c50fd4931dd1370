package io.sluice.core.net;

import io.netty.channel.ChannelException;

/**
 * Tells failures of this process from failures of the peer. A connect that fails because Sluice is out
 * of file descriptors says nothing about the backend: counting it against the backend (health, outlier
 * ejection, retries on another backend) would turn local overload into "no healthy backend" for every
 * client.
 */
public final class LocalResources {
    private LocalResources() {
    }

    /** Whether {@code t}, or a cause of it, is this process running out of file descriptors or sockets. */
    public static boolean exhausted(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            if (m != null && (m.contains("Too many open files") || m.contains("EMFILE") || m.contains("ENFILE"))) {
                return true;
            }
            if (c instanceof ChannelException && m != null && m.startsWith("Unable to create Channel")) {
                return true; // the socket itself could not be created: a local limit, whatever the cause says
            }
        }
        return false;
    }
}
