package io.sluice.core.pool;

import io.sluice.core.backend.Backend;
import io.sluice.core.balance.BalancePolicies;
import io.sluice.core.balance.BalancePolicy;
import io.sluice.core.balance.BalanceRequest;
import io.sluice.core.config.PoolConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
    private final AtomicInteger waiting = new AtomicInteger();

    public BackendPool(PoolConfig config, List<Backend> backends) {
        this.config = config;
        this.balancer = BalancePolicies.create(config.balancer(), config.routing());
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
        config = next;
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
     * Queues a request that found every backend at its in-flight limit; {@code wake} runs (on any
     * thread) when a backend frees a slot. False when the queue is full.
     *
     * <p>A slot may have freed between the caller's check and this call, with nobody queued to wake:
     * so, once queued, the pool checks again and wakes the first waiter if there is room now.
     */
    public boolean enqueue(Runnable wake) {
        if (waiting.incrementAndGet() > config.queueSize()) {
            waiting.decrementAndGet();
            return false;
        }
        waiters.addLast(wake);
        wakeIfRoom();
        return true;
    }

    /** A queued request that gave up (timeout, client gone). */
    public boolean dequeue(Runnable wake) {
        if (waiters.remove(wake)) {
            waiting.decrementAndGet();
            return true;
        }
        return false;
    }

    /** A waiter that woke but still found no room goes back to the front of the line. */
    public void requeueFirst(Runnable wake) {
        waiting.incrementAndGet();
        waiters.addFirst(wake);
        wakeIfRoom(); // as in enqueue: the slot may have freed again since the waiter looked
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
        Runnable w = waiters.pollFirst();
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
