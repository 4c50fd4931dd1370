package io.sluice.core.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One upstream server and its live state: health, in-flight requests and totals.
 *
 * <p>Shared by all event loops; every field is safe to read from any thread. In-flight counts are
 * changed only through {@link Lease}, which guarantees one decrement per increment however a request
 * ends (response end, upstream error, client disconnect).
 */
public final class Backend {
    private static final Logger log = LoggerFactory.getLogger(Backend.class);

    public enum State { HEALTHY, UNHEALTHY }

    private final String id;
    private final String pool;
    private final String host;
    private final int port;
    private final int weight;
    private final boolean tls;

    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long serviceNanos; // mean lease duration: see recordService
    private final AtomicInteger consecutiveErrors = new AtomicInteger();
    private final LongAdder ejections = new LongAdder();
    private volatile int ejectionStreak;
    private volatile long ejectedUntilNanos;
    private volatile Runnable releaseListener;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();

    private volatile State state = State.HEALTHY;
    private volatile String stateReason = "initial";
    private volatile long stateSinceMillis = System.currentTimeMillis();
    private volatile HealthResult lastHealth;
    private volatile Sampled load; // the latest scrape of the backend's own metrics, or null
    /** Set by an operator (drain, or removal in progress): no new requests, in-flight ones finish. */
    private volatile boolean draining;

    // Written by the health monitor (one probe per backend at a time) and reset by markDown.
    volatile int consecutiveOk;
    volatile int consecutiveFail;

    public Backend(String id, String pool, String host, int port, int weight) {
        this(id, pool, host, port, weight, false);
    }

    /** @param tls an {@code https://} backend: its connections are TLS, with the pool's settings */
    public Backend(String id, String pool, String host, int port, int weight, boolean tls) {
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be >= 1");
        }
        this.id = id;
        this.pool = pool;
        this.host = host;
        this.port = port;
        this.weight = weight;
        this.tls = tls;
    }

    public String id() { return id; }
    public String pool() { return pool; }
    public String host() { return host; }
    public int port() { return port; }
    public int weight() { return weight; }
    public boolean tls() { return tls; }
    public State state() { return state; }
    public String stateReason() { return stateReason; }
    public long stateSinceMillis() { return stateSinceMillis; }
    public boolean isHealthy() { return state == State.HEALTHY; }
    public boolean isDraining() { return draining; }
    /** Eligible for new requests: healthy and not drained by an operator. */
    public boolean isAvailable() { return state == State.HEALTHY && !draining; }
    public int inFlight() { return inFlight.get(); }
    public long requests() { return requests.sum(); }
    public long failures() { return failures.sum(); }
    /** Times this backend left rotation because it failed (health checks or a refused connection). */
    public long ejections() { return ejections.sum(); }
    public HealthResult lastHealth() { return lastHealth; }

    /**
     * The backend's own view of its load, from its latest metrics scrape; null when it was never
     * scraped or does not export vLLM's metrics. Check {@link LoadSample#atMillis()} for its age.
     */
    public LoadSample loadSample() {
        Sampled s = load;
        return s == null ? null : s.sample;
    }

    /**
     * Sluice's in-flight count on this backend when {@link #loadSample()} was taken: requests sent
     * since (in-flight now minus this) are ones the sample cannot have seen yet.
     */
    public int inFlightAtSample() {
        Sampled s = load;
        return s == null ? 0 : s.inFlight;
    }

    /** Set by the metrics scraper (any thread); the in-flight count is taken with it, atomically for readers. */
    public void loadSample(LoadSample sample) {
        load = sample == null ? null : new Sampled(sample, inFlight.get());
    }

    /** Counts a request as in flight on this backend until the returned lease is released. */
    public Lease lease() {
        inFlight.incrementAndGet();
        requests.increment();
        return new Lease(this);
    }

    /**
     * A lease only if fewer than {@code max} requests are in flight (0: no limit), decided by one
     * compare-and-set: event loops choosing at the same instant cannot together pass the limit, as
     * a check of {@link #inFlight()} followed by {@link #lease()} could.
     *
     * @return the lease, or null when the backend is full
     */
    public Lease tryLease(int max) {
        if (max <= 0) {
            return lease();
        }
        while (true) {
            int n = inFlight.get();
            if (n >= max) {
                return null;
            }
            if (inFlight.compareAndSet(n, n + 1)) {
                requests.increment();
                return new Lease(this);
            }
        }
    }

    /**
     * Stops (true) or resumes (false) sending new requests here; health checks go on either way, so
     * an enabled backend rejoins with its current health.
     * @return true if the setting changed
     */
    public boolean setDraining(boolean drain) {
        boolean was = draining;
        draining = drain;
        if (was != drain) {
            log.info("backend {} in pool {}: {}", id, pool, drain ? "draining (no new requests)" : "enabled");
        }
        return was != drain;
    }

    /** A request this backend could not serve (connect failure, reset, timeout). */
    public void recordFailure() {
        failures.increment();
    }

    /**
     * Passive health: feeds one request's outcome (a 5xx or a connection failure is not ok; a 4xx is)
     * to outlier detection.
     *
     * @return the ejection time when this outcome ejected the backend, else null
     */
    public java.time.Duration recordOutcome(boolean ok, io.sluice.core.config.OutlierConfig outlier) {
        if (ok) {
            if (consecutiveErrors.get() != 0) {
                consecutiveErrors.set(0);
            }
            return null;
        }
        int n = consecutiveErrors.incrementAndGet();
        if (!outlier.enabled() || n < outlier.consecutiveFailures() || state != State.HEALTHY) {
            return null;
        }
        // Each repeat doubles the ejection, up to the maximum.
        int streak = ejectionStreak;
        long nanos = Math.min(outlier.ejection().toNanos() << Math.min(streak, 20), outlier.maxEjection().toNanos());
        java.time.Duration d = java.time.Duration.ofNanos(nanos);
        if (!transition(State.UNHEALTHY, "ejected for " + io.sluice.core.config.Durations.format(d)
                + " after " + n + " consecutive failures")) {
            return null;
        }
        ejectionStreak = streak + 1;
        ejectedUntilNanos = System.nanoTime() + nanos;
        consecutiveErrors.set(0);
        consecutiveOk = 0;
        return d;
    }

    /** For pools without active checks: an ejection simply ends when its time is over. */
    public void readmitIfEjectionOver() {
        if (state == State.UNHEALTHY && ejectedUntilNanos != 0 && System.nanoTime() - ejectedUntilNanos >= 0) {
            ejectedUntilNanos = 0;
            transition(State.HEALTHY, "ejection over");
        }
    }

    /**
     * Folds one lease's duration into the mean (an exponentially weighted one, weight 1/8). Loops may
     * race on it and lose a sample: it feeds an estimate (a queue's predicted wait), not an account.
     */
    private void recordService(long nanos) {
        long m = serviceNanos;
        serviceNanos = m == 0 ? nanos : m + (nanos - m) / 8;
    }

    /** The recent mean time a request holds its slot here, in nanoseconds; 0 before the first one ended. */
    public long meanServiceNanos() {
        return serviceNanos;
    }

    /** Called after every lease release; used by a pool with a wait queue. */
    public void onRelease(Runnable listener) {
        this.releaseListener = listener;
    }

    /**
     * Applies one active check: a healthy backend goes down after {@code fall} failures in a row,
     * an unhealthy one comes back after {@code rise} successes in a row.
     */
    public void recordHealth(HealthResult result, int rise, int fall) {
        lastHealth = result;
        if (result.ok()) {
            consecutiveFail = 0;
            long until = ejectedUntilNanos;
            if (until != 0 && System.nanoTime() - until < 0) {
                return; // still ejected: good checks count only once the ejection is over
            }
            int ok = ++consecutiveOk;
            if (state != State.HEALTHY && ok >= rise) {
                ejectedUntilNanos = 0;
                transition(State.HEALTHY, ok + " good check(s): " + result.detail());
            }
        } else {
            consecutiveOk = 0;
            int failed = ++consecutiveFail;
            if (state == State.HEALTHY && failed >= fall) {
                transition(State.UNHEALTHY, failed + " failed check(s): " + result.detail());
            }
        }
    }

    /** Takes the backend out of rotation now, without waiting for the next health check. */
    public void markDown(String reason) {
        consecutiveOk = 0; // readmission after a passive ejection needs a full `rise` of good checks
        transition(State.UNHEALTHY, reason);
    }

    /** @return true if the state changed (and was logged) */
    private synchronized boolean transition(State to, String reason) {
        State from = state;
        if (from == to) {
            return false;
        }
        state = to;
        stateReason = reason;
        if (to == State.UNHEALTHY) {
            ejections.increment();
        }
        stateSinceMillis = System.currentTimeMillis();
        if (to == State.HEALTHY) {
            log.info("backend {} in pool {}: {} -> {} ({})", id, pool, from, to, reason);
        } else {
            log.warn("backend {} in pool {}: {} -> {} ({})", id, pool, from, to, reason);
        }
        return true;
    }

    @Override
    public String toString() {
        return id;
    }

    /**
     * What the backend itself reported, from vLLM's {@code /metrics}.
     *
     * @param waiting  {@code vllm:num_requests_waiting}: requests queued, not yet in the batch
     * @param running  {@code vllm:num_requests_running}: requests in the running batch
     * @param kvUsage  {@code vllm:kv_cache_usage_perc}, 0..1
     * @param atMillis when it was scraped ({@link System#currentTimeMillis()})
     */
    public record LoadSample(double waiting, double running, double kvUsage, long atMillis) {
    }

    private record Sampled(LoadSample sample, int inFlight) {
    }

    /** Latest active health check outcome. */
    public record HealthResult(boolean ok, String detail, long latencyMicros, long atMillis) {
    }

    /** One in-flight request; {@link #release()} is idempotent so every exit path may call it. */
    public static final class Lease {
        private Backend backend;
        private final long startNanos = System.nanoTime();

        private Lease(Backend backend) {
            this.backend = backend;
        }

        public Backend backend() {
            return backend;
        }

        /** Releases once; later calls do nothing. Called on the owning event loop. */
        public boolean release() {
            Backend b = backend;
            if (b == null) {
                return false;
            }
            backend = null;
            b.inFlight.decrementAndGet();
            b.recordService(System.nanoTime() - startNanos);
            Runnable r = b.releaseListener;
            if (r != null) {
                r.run();
            }
            return true;
        }

        public boolean released() {
            return backend == null;
        }
    }
}
