package io.sluice.core.pool;

import io.sluice.core.backend.Backend;
import io.sluice.core.balance.BalancePolicies;
import io.sluice.core.balance.BalancePolicy;
import io.sluice.core.balance.BalanceRequest;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.config.QueueConfig;
import io.sluice.core.exchange.RequestContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A named set of backends and the policy that spreads requests over them. */
public final class BackendPool {
    private volatile PoolConfig config; // replaced by a reload; read per request
    private volatile BalancePolicy balancer;
    // Copy-on-write: read on every request, changed only by admin actions and reloads.
    private final List<Backend> backends = new CopyOnWriteArrayList<>();
    private final List<Backend> view = Collections.unmodifiableList(backends);
    private final AtomicInteger activeRetries = new AtomicInteger();
    private final ConcurrentLinkedDeque<Runnable> waiters = new ConcurrentLinkedDeque<>();
    private final AtomicInteger waiting = new AtomicInteger(); // in both lines
    private final FairQueue fair = new FairQueue(List.of()); // waiters of a pool with classes; empty otherwise

    public BackendPool(PoolConfig config, List<Backend> backends) {
        this.config = config;
        this.balancer = BalancePolicies.create(config.balancer(), config.routing());
        fair.order(config.queue().classes());
        backends.forEach(this::add);
    }

    /**
     * The only way in: every member wakes the pool's queued requests when it frees a slot, whether
     * it came from the config, a reload, the admin API or an inference replica, and whether or not
     * the queue is on now (a reload may turn it on; with nobody waiting the wake-up is one read).
     */
    public void add(Backend b) {
        b.onRelease(this::wakeOne);
        backends.add(b);
        wakeOne(); // a new member may have room for a request already waiting
    }

    /** @return true if the backend was a member; requests running on it are not affected */
    public boolean remove(Backend b) {
        return backends.remove(b);
    }

    public String name() {
        return config.name();
    }

    public PoolConfig config() {
        return config;
    }

    /**
     * Takes every setting of a reloaded config (timeouts, limits, queue, retries, outlier detection,
     * health, balancer); the backend list is reconciled separately.
     */
    public void reconfigure(PoolConfig next) {
        if (!next.name().equals(config.name())) {
            throw new IllegalArgumentException("pool " + config.name() + " cannot become " + next.name());
        }
        if (!next.balancer().equals(config.balancer())) {
            balancer = BalancePolicies.create(next.balancer(), next.routing());
        } else if (!next.routing().equals(config.routing())) {
            balancer.routing(next.routing());
        }
        fair.order(next.queue().classes());
        config = next;
        wakeIfRoom(); // a larger limit may have room for waiters now
    }

    /** The members, read-only: change them with {@link #add} and {@link #remove}. */
    public List<Backend> backends() {
        return view;
    }

    /** @return the backend the balancer would pick now, or null when none is available and below its limit */
    public Backend choose() {
        return balancer.choose(backends, BalanceRequest.NONE, config.maxInFlightPerBackend(), null);
    }

    /**
     * Chooses a backend and takes a slot on it atomically ({@link Backend#tryLease}). When another
     * event loop took the last slot between the choice and the lease, chooses again among the others.
     *
     * @param exclude backends already tried for this request, or null
     * @return the lease, or null when no available backend has room
     */
    public Backend.Lease lease(List<Backend> exclude) {
        return lease(BalanceRequest.NONE, exclude);
    }

    /**
     * @param request what the pool's policy may know about the request
     * @param exclude backends already tried for this request, or null
     */
    public Backend.Lease lease(BalanceRequest request, List<Backend> exclude) {
        int max = config.maxInFlightPerBackend();
        List<Backend> skip = exclude;
        for (int i = 0, n = backends.size(); i <= n; i++) { // each miss skips one more backend
            Backend b = balancer.choose(backends, request, max, skip);
            if (b == null) {
                return null;
            }
            Backend.Lease lease = b.tryLease(max);
            if (lease != null) {
                return lease;
            }
            if (skip == exclude) {
                skip = exclude == null ? new ArrayList<>(2) : new ArrayList<>(exclude); // only on contention
            }
            skip.add(b);
        }
        return null;
    }

    /**
     * Takes a retry from the budget: at most {@code budget-percent} of the pool's in-flight
     * requests may be retries at once (but always 3), so a failing pool is not hammered.
     */
    public boolean tryStartRetry() {
        int inFlight = 0;
        for (Backend b : backends) {
            inFlight += b.inFlight();
        }
        int allowed = Math.max(3, inFlight * config.retry().budgetPercent() / 100);
        while (true) {
            int n = activeRetries.get();
            if (n >= allowed) {
                return false;
            }
            if (activeRetries.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void endRetry() {
        activeRetries.decrementAndGet();
    }

    /**
     * The wake-up to queue for a request: {@code wake} itself for a FIFO queue, or a
     * {@link FairQueue.Waiter} with the request's class and client when the pool has classes. Only
     * those pools allocate here.
     */
    public Runnable waiter(RequestContext rc, Runnable wake) {
        QueueConfig q = config.queue();
        if (!q.fair()) {
            return wake;
        }
        String key = rc.apiKeyId();
        String cls = key == null ? null : q.keyClasses().get(key);
        if (cls == null && q.classHeader() != null) {
            String h = rc.header(q.classHeader());
            if (h != null && q.classes().contains(h.trim())) {
                cls = h.trim();
            }
        }
        if (cls == null) {
            cls = q.defaultClass();
        }
        return new FairQueue.Waiter(wake, cls, key != null ? "key:" + key : "ip:" + (rc.client() == null ? "" : rc.client().client()));
    }

    /**
     * Queues a request that found every backend at its in-flight limit; {@code wake} runs (on any
     * thread) when a backend frees a slot. False when the queue is full, or (with classes) when the
     * request's client already holds its share of it.
     *
     * <p>A slot may have freed between the caller's check and this call, with nobody queued to wake:
     * so, once queued, the pool checks again and wakes the first waiter if there is room now.
     */
    public boolean enqueue(Runnable wake) {
        PoolConfig c = config;
        if (waiting.incrementAndGet() > c.queueSize()) {
            waiting.decrementAndGet();
            return false;
        }
        if (wake instanceof FairQueue.Waiter w && c.queue().fair()) {
            if (!fair.add(w, c.queue().keyLimit(c.queueSize()))) {
                waiting.decrementAndGet();
                return false;
            }
        } else {
            waiters.addLast(wake);
        }
        wakeIfRoom();
        return true;
    }

    /** A queued request that gave up (timeout, client gone). */
    public boolean dequeue(Runnable wake) {
        if (wake instanceof FairQueue.Waiter w && fair.remove(w) || waiters.remove(wake)) {
            waiting.decrementAndGet();
            return true;
        }
        return false;
    }

    /** A waiter that woke but still found no room goes back to the front of the line (of its client). */
    public void requeueFirst(Runnable wake) {
        waiting.incrementAndGet();
        if (wake instanceof FairQueue.Waiter w && config.queue().fair()) {
            fair.addFirst(w);
        } else {
            waiters.addFirst(wake);
        }
        wakeIfRoom(); // as in enqueue: the slot may have freed again since the waiter looked
    }

    /**
     * How long a request queued now would wait, by the queue ahead of it and the recent mean time a
     * request holds a slot: (queued + 1) × mean ÷ slots. Zero before any request has ended (no
     * estimate yet) and when the backends have no in-flight limit.
     */
    public long predictedWaitNanos() {
        int max = config.maxInFlightPerBackend();
        long sum = 0;
        int slots = 0;
        int measured = 0;
        for (Backend b : backends) {
            if (b.isAvailable()) {
                slots += max;
                long m = b.meanServiceNanos();
                if (m > 0) {
                    sum += m;
                    measured++;
                }
            }
        }
        if (slots == 0 || measured == 0) {
            return 0;
        }
        return (waiting.get() + 1L) * (sum / measured) / slots;
    }

    /** Waiters per priority class (declared classes first); empty for a pool without classes. */
    public Map<String, Integer> queuedByClass() {
        return config.queue().fair() || fair.size() > 0 ? fair.sizes() : Map.of();
    }

    private void wakeIfRoom() {
        if (!allFull()) {
            wakeOne();
        }
    }

    public int queued() {
        return waiting.get();
    }

    private void wakeOne() {
        if (waiting.get() == 0) {
            return;
        }
        Runnable w = fair.poll(); // empty unless the pool has classes, or had them before a reload
        if (w == null) {
            w = waiters.pollFirst();
        }
        if (w != null) {
            waiting.decrementAndGet();
            w.run();
        }
    }

    /** Some backend is healthy but every healthy one is at its in-flight limit. */
    public boolean allFull() {
        int max = config.maxInFlightPerBackend();
        if (max == 0) {
            return false;
        }
        boolean anyHealthy = false;
        for (Backend b : backends) {
            if (b.isAvailable()) {
                anyHealthy = true;
                if (b.inFlight() < max) {
                    return false;
                }
            }
        }
        return anyHealthy;
    }

    /** Backends that may take new requests: healthy and not draining. */
    public int availableCount() {
        int n = 0;
        for (Backend b : backends) {
            if (b.isAvailable()) {
                n++;
            }
        }
        return n;
    }

    public int healthyCount() {
        int n = 0;
        for (Backend b : backends) {
            if (b.isHealthy()) {
                n++;
            }
        }
        return n;
    }
}
