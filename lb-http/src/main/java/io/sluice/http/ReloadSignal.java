package io.sluice.http;

import io.sluice.core.config.ConfigException;
import io.sluice.http.server.SluiceServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP reloads the config file, as nginx and haproxy do; an invalid file is logged and ignored.
 * SIGUSR1 reopens the access log file, as nginx does for logrotate (rename, then signal).
 */
final class ReloadSignal {
    private static final Logger log = LoggerFactory.getLogger(ReloadSignal.class);

    private ReloadSignal() {
    }

    private static SluiceServer server;     // guarded by ReloadSignal.class; null while starting
    private static boolean pending;          // a SIGHUP came while starting
    private static boolean reopenPending;    // a SIGUSR1 came while starting

    /**
     * Installed before the server starts: without a handler, a SIGHUP (logrotate, an operator) in the
     * moment between the listeners opening and the handler's installation would end the JVM. One
     * that comes while starting is carried out once the server is up ({@link #started}).
     */
    static void install() {
        try {
            sun.misc.SignalHandler previous = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
                SluiceServer s;
                synchronized (ReloadSignal.class) {
                    s = server;
                    if (s == null) {
                        pending = true;
                        log.info("SIGHUP while starting: the configuration is reloaded once the gateway is up");
                        return;
                    }
                }
                reload(s);
            });
            if (previous == sun.misc.SignalHandler.SIG_IGN) {
                // Inherited as ignored (nohup, some supervisors): the JVM keeps it ignored, ours never runs.
                log.warn("SIGHUP is ignored in this process (started under nohup?): reload with "
                        + "POST /api/v1/config/reload instead");
            }
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIGHUP reload not available on this platform: {}", e.toString());
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("USR1"), sig -> {
                SluiceServer s;
                synchronized (ReloadSignal.class) {
                    s = server;
                    if (s == null) {
                        reopenPending = true;
                        return;
                    }
                }
                reopen(s);
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIGUSR1 (reopen the access log) not available on this platform: {}", e.toString());
        }
    }

    private static void reopen(SluiceServer s) {
        log.info("SIGUSR1: reopening the access log");
        if (!s.reopenLogs()) {
            log.info("SIGUSR1: no access log file to reopen");
        }
    }

    /** The server is up: SIGHUP reloads it from now on, and one that came meanwhile is done now. */
    static void started(SluiceServer started) {
        boolean missed;
        boolean missedReopen;
        synchronized (ReloadSignal.class) {
            server = started;
            missed = pending;
            pending = false;
            missedReopen = reopenPending;
            reopenPending = false;
        }
        if (missedReopen) {
            reopen(started);
        }
        if (missed) {
            reload(started);
        }
    }

    private static void reload(SluiceServer s) {
        // The JVM's signal thread (or main, for a signal that came while starting): blocking is fine.
        try {
            log.info("SIGHUP: reloading configuration");
            s.reload();
        } catch (ConfigException e) {
            log.error("SIGHUP: configuration rejected, the running one stays:\n{}", e.getMessage());
        } catch (Exception e) {
            log.error("SIGHUP: reload failed", e);
        }
    }
}
