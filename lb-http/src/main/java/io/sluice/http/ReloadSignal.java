package io.sluice.http;

import io.sluice.core.config.ConfigException;
import io.sluice.http.server.SluiceServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** SIGHUP reloads the config file, as nginx and haproxy do; an invalid file is logged and ignored. */
final class ReloadSignal {
    private static final Logger log = LoggerFactory.getLogger(ReloadSignal.class);

    private ReloadSignal() {
    }

    static void install(SluiceServer server) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
                // The JVM's signal thread: reload there (blocking is fine), one at a time.
                try {
                    log.info("SIGHUP: reloading configuration");
                    server.reload();
                } catch (ConfigException e) {
                    log.error("SIGHUP: configuration rejected, the running one stays:\n{}", e.getMessage());
                } catch (Exception e) {
                    log.error("SIGHUP: reload failed", e);
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIGHUP reload not available on this platform: {}", e.toString());
        }
    }
}
