package io.sluice.http.discovery;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.sluice.admin.AdminException;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.BackendConfig;
import io.sluice.core.config.Durations;
import io.sluice.http.manage.RuntimeBackends;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code dns:} entry: asks for the name's A and AAAA records, makes the pool's members match
 * the addresses, and asks again after the smallest TTL (within {@code dns-refresh}).
 *
 * <p>What an answer means, per address family: records are the new set; NXDOMAIN, or an answer
 * without records of that type (NODATA), is an empty set (a Kubernetes headless service with no ready pod answers NXDOMAIN: its backends
 * are drained); any other failure (timeout, SERVFAIL, refused) keeps that family's current
 * addresses, so a DNS outage never empties a pool. Failed lookups are retried from the floor,
 * doubling up to the ceiling. Confined to the discovery's event loop.
 */
final class DnsWatch {
    private static final Logger log = LoggerFactory.getLogger(DnsWatch.class);

    private final String pool;
    private final DnsNameResolver resolver;
    private final EventLoop loop;
    private final RuntimeBackends backends;
    private final Owned owned;
    private final java.util.concurrent.atomic.LongAdder lookups;
    private final Map<InetAddress, Backend> current = new LinkedHashMap<>();
    private BackendConfig entry;
    private ScheduledFuture<?> next;
    private boolean stopped;
    private int failures;

    DnsWatch(String pool, BackendConfig entry, DnsNameResolver resolver, EventLoop loop, RuntimeBackends backends,
             Owned owned, java.util.concurrent.atomic.LongAdder lookups) {
        this.pool = pool;
        this.entry = entry;
        this.resolver = resolver;
        this.loop = loop;
        this.backends = backends;
        this.owned = owned;
        this.lookups = lookups;
    }

    String pool() {
        return pool;
    }

    /** Same name, port, scheme and weight: the discovered backends can stay as they are. */
    boolean sameTarget(BackendConfig other) {
        return entry.host().equals(other.host()) && entry.port() == other.port() && entry.tls() == other.tls()
                && entry.weight() == other.weight();
    }

    /** The entry as the latest config has it (its {@code dns-refresh} may differ); used from the next lookup on. */
    void entry(BackendConfig next) {
        this.entry = next;
    }

    void resolve() {
        if (stopped) {
            return;
        }
        next = null;
        Future<List<DnsRecord>> v4 = resolver.resolveAll(new DefaultDnsQuestion(entry.host(), DnsRecordType.A));
        Future<List<DnsRecord>> v6 = resolver.resolveAll(new DefaultDnsQuestion(entry.host(), DnsRecordType.AAAA));
        // Each family's records are read and released as soon as that family answers: waiting for the other
        // one first held them for as long as it took, and for ever if it never completed (the resolver closed
        // with its query still pending), which leaked the answer's buffer. Both listeners run on the resolver's loop.
        Family[] families = new Family[2];
        v4.addListener(f -> {
            families[0] = Family.of(v4, DnsRecordType.A);
            if (families[1] != null) {
                answered(families[0], families[1]);
            }
        });
        v6.addListener(f -> {
            families[1] = Family.of(v6, DnsRecordType.AAAA);
            if (families[0] != null) {
                answered(families[0], families[1]);
            }
        });
    }

    /** One address family's answer: the addresses, or {@code failure} when the current ones should stay. */
    private record Family(List<InetAddress> addresses, long minTtl, Throwable failure) {
        static Family of(Future<List<DnsRecord>> f, DnsRecordType type) {
            if (!f.isSuccess()) {
                return noSuchRecords(f.cause()) ? new Family(List.of(), Long.MAX_VALUE, null)
                        : new Family(List.of(), Long.MAX_VALUE, f.cause());
            }
            List<InetAddress> addresses = new ArrayList<>();
            long ttl = Long.MAX_VALUE;
            for (DnsRecord r : f.getNow()) {
                try {
                    if (r.type() == type && r instanceof DnsRawRecord raw) {
                        ByteBuf content = raw.content();
                        addresses.add(InetAddress.getByAddress(ByteBufUtil.getBytes(content)));
                        ttl = Math.min(ttl, r.timeToLive());
                    }
                } catch (UnknownHostException malformed) { // a record of the wrong length: not an address
                    log.debug("ignoring a malformed {} record: {}", type, malformed.getMessage());
                } finally {
                    ReferenceCountUtil.release(r);
                }
            }
            return new Family(addresses, ttl, null);
        }

        /**
         * The name server said there are none: NXDOMAIN (Netty's {@link DnsErrorCauseException}), or
         * NODATA, which Netty reports as an {@link UnknownHostException} with no cause (a timeout or
         * an error code always comes as the cause).
         */
        private static boolean noSuchRecords(Throwable t) {
            if (t instanceof UnknownHostException && t.getCause() == null) {
                return true;
            }
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (c instanceof DnsErrorCauseException e && DnsResponseCode.NXDOMAIN.equals(e.getCode())) {
                    return true;
                }
            }
            return false;
        }
    }

    private void answered(Family v4, Family v6) {
        if (stopped) {
            return;
        }
        lookups.increment();
        String what = pool + ": dns " + entry.name();
        if (v4.failure() != null && v6.failure() != null) {
            failures++;
            Duration retry = backoff();
            long suppressed = DnsDiscovery.FAILURES.admit(what);
            if (suppressed >= 0) {
                log.warn("pool {}: looking up {} failed ({}); keeping its {} backend(s), retrying in {}{}", pool, entry.host(),
                        describe(v4.failure()), current.size(), Durations.format(retry), DnsDiscovery.FAILURES.summary(suppressed));
            }
            schedule(retry);
            return;
        }
        if (failures > 0) {
            log.info("pool {}: {} resolves again", pool, entry.host());
            failures = 0;
        }
        long ttl = Math.min(v4.minTtl(), v6.minTtl());
        schedule(entry.dns().refreshAfter(ttl == Long.MAX_VALUE ? 0 : ttl)); // no records: ask again soon
        Set<InetAddress> wanted = new LinkedHashSet<>();
        keepOrTake(v4, false, wanted);
        keepOrTake(v6, true, wanted);
        try {
            reconcile(wanted);
        } catch (RuntimeException e) { // never the end of the watch: the next lookup tries again
            log.warn("pool {}: applying the addresses of {} failed", pool, entry.host(), e);
        }
    }

    /** Netty's message and, when there is one, the innermost cause (a timeout, an error code). */
    private static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root == t ? String.valueOf(t.getMessage()) : t.getMessage() + ": " + root.getMessage();
    }

    private void keepOrTake(Family f, boolean v6, Set<InetAddress> wanted) {
        if (f.failure() == null) {
            wanted.addAll(f.addresses());
            return;
        }
        log.debug("pool {}: {} lookup of {} failed, keeping those addresses: {}", pool, v6 ? "AAAA" : "A", entry.host(),
                describe(f.failure()));
        for (InetAddress a : current.keySet()) {
            if ((a instanceof Inet6Address) == v6) {
                wanted.add(a);
            }
        }
    }

    private void reconcile(Set<InetAddress> wanted) {
        List<String> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        for (var it = current.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!wanted.contains(e.getKey())) {
                it.remove();
                removed.add(e.getValue().id());
                drain(e.getValue()); // streams on it run to their end
            }
        }
        for (InetAddress a : wanted) {
            if (current.containsKey(a)) {
                continue;
            }
            String host = NetUtil.toAddressString(a);
            String name = entry.name() + "@" + BackendConfig.address(host, entry.port());
            if (!owned.claim(pool, name)) {
                log.debug("pool {}: {} is back but its old backend is still draining; adding it after that", pool, name);
                continue; // the next lookup tries again
            }
            try {
                Backend b = backends.add(pool, name, host, entry.port(), entry.weight(), entry.tls());
                owned.bind(b);
                current.put(a, b);
                added.add(name);
            } catch (AdminException e) { // the pool went away, or a url: backend has this address already
                owned.unclaim(pool, name);
                long suppressed = DnsDiscovery.FAILURES.admit(pool + ": add " + entry.name());
                if (suppressed >= 0) {
                    log.warn("pool {}: discovered address {} not added: {}{}", pool, name, e.getMessage(),
                            DnsDiscovery.FAILURES.summary(suppressed));
                }
            }
        }
        if (!added.isEmpty() || !removed.isEmpty()) {
            log.info("pool {}: {} has {} address(es){}{}", pool, entry.host(), current.size(),
                    added.isEmpty() ? "" : "; added " + added, removed.isEmpty() ? "" : "; draining " + removed);
        }
    }

    /** Drained, then removed; still ours until then, so a reload does not remove it a second time. */
    private void drain(Backend b) {
        backends.remove(b).whenComplete((left, failure) -> owned.release(b));
    }

    private Duration backoff() {
        Duration min = entry.dns().minRefresh();
        Duration max = entry.dns().maxRefresh();
        Duration d = min.multipliedBy(1L << Math.min(failures - 1, 20));
        return d.compareTo(max) > 0 ? max : d;
    }

    private void schedule(Duration after) {
        next = loop.schedule(this::resolve, after.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** No more lookups; with {@code drain}, the discovered backends are drained and removed. */
    void stop(boolean drain) {
        stopped = true;
        if (next != null) {
            next.cancel(false);
        }
        for (Backend b : current.values()) {
            if (drain) {
                drain(b);
            } else {
                owned.release(b);
            }
        }
        if (drain && !current.isEmpty()) {
            log.info("pool {}: dns entry {} removed, draining its {} backend(s)", pool, entry.name(), current.size());
        }
        current.clear();
    }
}
