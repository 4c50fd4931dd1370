package io.sluice.http.tls;

import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.config.CertificateConfig;
import io.sluice.core.config.TlsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificates of one TLS listener, chosen per handshake by SNI, and replaced live.
 *
 * <p>Each handshake reads the current mapping once (a volatile read), so a replaced certificate is
 * served to the next handshake while open connections keep the engine, and through it the
 * context, they started with. A replaced context is released only after a grace period: a
 * handshake that read the old mapping a moment before still gets to build its engine from it.
 */
public final class CertificateStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CertificateStore.class);
    private static final long RELEASE_GRACE_SECONDS = 30;

    /** One certificate, with what it was loaded from so a change can be noticed. */
    private record Entry(SslContext context, X509Certificate leaf, List<String> names, Object stamp) {
    }

    private final String listener;
    private final ScheduledExecutorService scheduler;
    private final Map<String, Entry> entries = new LinkedHashMap<>(); // guarded by this; first added is the default
    private final List<SslContext> retiring = new ArrayList<>();      // guarded by this; released after the grace period or at close
    private final List<CertificateConfig> files;
    private final boolean http2;
    private volatile Mapping<String, SslContext> mapping;
    /** TLS-ALPN-01 challenge certificates being validated, by domain. */
    private final java.util.concurrent.ConcurrentHashMap<String, SslContext> alpnChallenges = new java.util.concurrent.ConcurrentHashMap<>();
    private ScheduledFuture<?> watch;
    private boolean closed;

    public CertificateStore(String listener, TlsConfig config, boolean http2, ScheduledExecutorService scheduler)
            throws IOException, GeneralSecurityException {
        this.listener = listener;
        this.http2 = http2;
        this.scheduler = scheduler;
        this.files = config.certificates();
        for (CertificateConfig c : files) {
            loadFile(c, true);
        }
        if (config.selfSigned()) {
            SelfSigned.Certificate dev = SelfSigned.create(SelfSigned.LOCAL_NAMES, Duration.ofDays(365));
            put("self-signed", dev.keys().getPrivate(), new X509Certificate[] {dev.cert()}, null);
            log.warn("listener {}: serving a self-signed development certificate for {}", listener, SelfSigned.LOCAL_NAMES);
        }
        if (!files.isEmpty()) {
            long ms = config.reloadInterval().toMillis();
            watch = scheduler.scheduleWithFixedDelay(this::checkFiles, ms, ms, TimeUnit.MILLISECONDS);
        }
    }

    /** Resolves SNI names; a handshake without SNI (or with an unknown name) gets the first certificate. */
    public SniHandler newSniHandler() {
        return new AcmeAwareSniHandler(hostname -> {
            Mapping<String, SslContext> m = mapping;
            return m == null ? null : m.map(hostname); // no certificate (yet): the handshake fails
        }, alpnChallenges::get);
    }

    /** The certificate a handshake for {@code hostname} would get now, or null if there is none yet. */
    public synchronized X509Certificate current(String hostname) {
        SslContext ctx = mapping == null ? null : mapping.map(hostname);
        for (Entry e : entries.values()) {
            if (e.context() == ctx) {
                return e.leaf();
            }
        }
        return null;
    }

    public synchronized boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Adds or replaces the certificate under {@code id}; new handshakes get it at once. */
    public void put(String id, PrivateKey key, X509Certificate[] chain, Object stamp) throws IOException {
        SslContext ctx = Tls.serverContext(http2, key, chain);
        Entry old;
        synchronized (this) {
            if (closed) {
                ReferenceCountUtil.release(ctx);
                return;
            }
            old = entries.put(id, new Entry(ctx, chain[0], Pem.names(chain[0]), stamp));
            rebuild();
        }
        log.info("listener {}: certificate {} for {} (serial {}, expires {})", listener, id, Pem.names(chain[0]),
                chain[0].getSerialNumber().toString(16), chain[0].getNotAfter().toInstant());
        if (old != null) {
            releaseLater(old.context());
        }
    }

    /** Serves {@code cert} to ACME TLS-ALPN-01 validation handshakes for {@code domain} (until removed). */
    public void putAlpnChallenge(String domain, PrivateKey key, X509Certificate cert) throws IOException {
        SslContext old = alpnChallenges.put(domain, Tls.acmeChallengeContext(key, cert));
        if (old != null) {
            releaseLater(old);
        }
    }

    public void removeAlpnChallenge(String domain) {
        SslContext old = alpnChallenges.remove(domain);
        if (old != null) {
            releaseLater(old);
        }
    }

    private void rebuild() {
        List<Entry> list = new ArrayList<>(entries.values());
        if (list.isEmpty()) {
            mapping = null;
            return;
        }
        DomainWildcardMappingBuilder<SslContext> b = new DomainWildcardMappingBuilder<>(list.get(0).context());
        // Earlier certificates win a name both carry: add in reverse so they are added last.
        for (int i = list.size() - 1; i >= 0; i--) {
            for (String name : list.get(i).names()) {
                b.add(name, list.get(i).context());
            }
        }
        mapping = b.build();
    }

    private void releaseLater(SslContext ctx) {
        synchronized (this) {
            if (!closed) {
                retiring.add(ctx);
                try {
                    scheduler.schedule(() -> retire(ctx), RELEASE_GRACE_SECONDS, TimeUnit.SECONDS);
                    return;
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    retiring.remove(ctx); // shutting down
                }
            }
        }
        ReferenceCountUtil.release(ctx);
    }

    private void retire(SslContext ctx) {
        boolean mine;
        synchronized (this) {
            mine = retiring.remove(ctx); // else close() released it already
        }
        if (mine) {
            ReferenceCountUtil.release(ctx);
        }
    }

    private static Object stamp(CertificateConfig c) throws IOException {
        Path cert = Path.of(c.cert());
        Path key = Path.of(c.key());
        return List.of(Files.getLastModifiedTime(cert), Files.size(cert), Files.getLastModifiedTime(key), Files.size(key));
    }

    private void loadFile(CertificateConfig c, boolean first) throws IOException {
        Object stamp = stamp(c);
        synchronized (this) {
            Entry e = entries.get(c.cert());
            if (!first && e != null && Objects.equals(e.stamp(), stamp)) {
                return;
            }
        }
        X509Certificate[] chain = Pem.readChain(Path.of(c.cert()));
        PrivateKey key = Pem.readKey(Path.of(c.key()));
        put(c.cert(), key, chain, stamp);
    }

    /** Polled: inotify misses the symlink swaps of Kubernetes secrets and certbot's renewals. */
    private void checkFiles() {
        for (CertificateConfig c : files) {
            try {
                loadFile(c, false);
            } catch (IOException | RuntimeException e) {
                // A half-written pair (new cert, old key) lands here; the next poll retries.
                log.warn("listener {}: cannot reload {} / {}, keeping the previous certificate: {}", listener, c.cert(), c.key(), e.toString());
            }
        }
    }

    @Override
    public void close() {
        List<SslContext> contexts = new ArrayList<>();
        synchronized (this) {
            closed = true;
            if (watch != null) {
                watch.cancel(false);
            }
            entries.values().forEach(e -> contexts.add(e.context()));
            entries.clear();
            contexts.addAll(retiring);
            retiring.clear();
            contexts.addAll(alpnChallenges.values());
            alpnChallenges.clear();
        }
        contexts.forEach(ReferenceCountUtil::release);
    }
}
