package io.sluice.http.server;

import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.SluiceConfig;
import io.sluice.core.observe.ExchangeObserver;
import io.sluice.http.log.AccessLog;
import io.sluice.http.tls.AcmeChallenges;
import io.sluice.http.tls.AcmeManager;
import io.sluice.http.tls.CertificateStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * The services around the listeners that used to be Caddy's: certificates per TLS listener (files,
 * development, ACME), the ACME challenge answers, and the access log. Their slow work (file reads,
 * ACME round trips, log writes) runs on their own threads, never on an event loop.
 */
final class EdgeServices implements AutoCloseable {
    private final AcmeChallenges challenges = new AcmeChallenges();
    private final Map<String, CertificateStore> stores = new HashMap<>();
    private final List<AcmeManager> acme = new ArrayList<>();
    // Stores replaced by a reload, closed a little later (or at close, whichever comes first).
    private final java.util.concurrent.CopyOnWriteArrayList<CertificateStore> retired = new java.util.concurrent.CopyOnWriteArrayList<>();
    private ScheduledExecutorService scheduler;
    private volatile AccessLog accessLog; // read by the signal thread (SIGUSR1)

    void start(SluiceConfig config, Consumer<ExchangeObserver> observers) throws Exception {
        if (config.accessLog() != null) {
            accessLog = AccessLog.open(config.accessLog());
            observers.accept(accessLog);
        }
        for (ListenerConfig lc : config.listeners()) {
            if (lc.tls() == null) {
                continue;
            }
            if (scheduler == null) {
                scheduler = Executors.newSingleThreadScheduledExecutor(
                        new io.netty.util.concurrent.DefaultThreadFactory("sluice-tls", true));
            }
            CertificateStore store = new CertificateStore(lc.name(), lc.tls(), lc.http2().enabled(), scheduler);
            stores.put(lc.name(), store);
            if (lc.tls().acme() != null) {
                AcmeManager m = new AcmeManager(lc.name(), lc.tls().acme(), store, challenges);
                acme.add(m);
                m.start();
            }
        }
    }

    /** SIGUSR1: the access log file is reopened at its path (after logrotate renamed it). */
    boolean reopenAccessLog() {
        AccessLog l = accessLog;
        if (l != null) {
            l.reopen();
        }
        return l != null;
    }

    /**
     * The certificates of a listener after a reload changed it from {@code old} to {@code next}: the
     * same store when its TLS settings did not change, a new one (the old one closed a little later,
     * once handshakes begun with it are over) when they did, null for a plain listener now.
     *
     * @throws IllegalStateException when an ACME setting changed: that needs a restart
     */
    synchronized CertificateStore reload(ListenerConfig old, ListenerConfig next) throws Exception {
        CertificateStore current = stores.get(next.name());
        boolean sameTls = java.util.Objects.equals(old.tls(), next.tls()) && old.http2().enabled() == next.http2().enabled();
        if (sameTls) {
            return current;
        }
        if ((old.tls() != null && old.tls().acme() != null) || (next.tls() != null && next.tls().acme() != null)) {
            throw new IllegalStateException("ACME settings of listener " + next.name() + " changed");
        }
        CertificateStore replacement = null;
        if (next.tls() != null) {
            if (scheduler == null) {
                scheduler = Executors.newSingleThreadScheduledExecutor(
                        new io.netty.util.concurrent.DefaultThreadFactory("sluice-tls", true));
            }
            replacement = new CertificateStore(next.name(), next.tls(), next.http2().enabled(), scheduler);
            stores.put(next.name(), replacement);
        } else {
            stores.remove(next.name());
        }
        if (current != null) {
            retired.add(current);
            scheduler.schedule(() -> {
                if (retired.remove(current)) {
                    current.close();
                }
            }, 30, java.util.concurrent.TimeUnit.SECONDS);
        }
        return replacement;
    }

    CertificateStore certificates(ListenerConfig lc) {
        return stores.get(lc.name());
    }

    AcmeChallenges challenges() {
        return challenges;
    }

    /** For the admin API's listener list. */
    static String protocols(ListenerConfig lc) {
        String h2 = lc.http2().enabled() ? (lc.tls() != null ? "h2, " : "h2c, ") : "";
        if (lc.redirectToHttps() != 0) {
            return "http/1.1 (redirect to https:" + lc.redirectToHttps() + ")";
        }
        return (lc.tls() != null ? "tls: " : "") + h2 + "http/1.1";
    }

    /** The ACME managers, in listener order (tests watch renewals through them). */
    List<AcmeManager> acme() {
        return acme;
    }

    @Override
    public void close() {
        acme.forEach(AcmeManager::close);
        stores.values().forEach(CertificateStore::close);
        retired.forEach(store -> {
            if (retired.remove(store)) {
                store.close();
            }
        });
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (accessLog != null) {
            accessLog.close();
        }
    }
}
