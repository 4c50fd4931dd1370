package io.sluice.sim;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sluice.core.net.Transport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A vLLM OpenAI-compatible server stand-in: same wire format and metrics, scripted latency, and
 * switchable failures, so load-balancer behaviour can be tested without GPUs.
 *
 * <p>Admission mirrors vLLM's scheduler closely enough for routing decisions: at most
 * {@code maxNumSeqs} sequences run and only while their KV blocks fit in {@code kvBlocks}; the rest wait
 * FIFO (a head that does not fit holds back those behind it, as vLLM's first-come-first-served
 * scheduler). A client disconnect aborts the request wherever it is and frees its slot and blocks.
 *
 * <p>Latency follows continuous batching with automatic prefix caching: the time to first token is
 * {@code ttft + uncached prompt tokens * prefillPerToken * f} and each inter-token interval
 * {@code itl * f}, with {@code f = 1 + batchSlowdown * (running - 1)}; prompt blocks whose chained hash is
 * cached cost no prefill (see {@link Prompt}, {@link KvCache}).
 */
public final class VllmSimulator implements AutoCloseable {
    /** Set on channels the simulator closes itself, so their unfinished requests are not counted as client aborts. */
    static final AttributeKey<Boolean> SERVER_CLOSED = AttributeKey.valueOf("sluice.sim.serverClosed");

    enum Outcome { COMPLETED, ABORTED, DROPPED }

    private final SimulatorOptions options;
    private final EventLoopGroup group;
    private final ServerBootstrap bootstrap;
    private final ChannelGroup children = new DefaultChannelGroup("sluice-sim", GlobalEventExecutor.INSTANCE);
    private final int port;
    private volatile FailureMode mode;
    private Channel server; // guarded by this
    private boolean closed; // guarded by this

    private final Object lock = new Object();
    private final LinkedHashSet<Generation> queue = new LinkedHashSet<>(); // guarded by lock
    private final LinkedHashSet<Generation> active = new LinkedHashSet<>(); // guarded by lock
    private final KvCache kv; // guarded by lock
    private final ArrayDeque<ScheduledRequest> log = new ArrayDeque<>(); // guarded by lock
    private final long[] ttftBuckets = new long[Wire.TTFT_BUCKETS.length]; // guarded by lock, not cumulative
    private long ttftCount; // guarded by lock
    private double ttftSum; // guarded by lock
    private volatile long prefixQueries;
    private volatile long prefixHits;
    private final long[] finished = new long[Wire.FinishReason.values().length]; // guarded by lock
    private volatile int running;
    private volatile int waiting;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong aborted = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generationTokens = new AtomicLong();

    private VllmSimulator(SimulatorOptions options) {
        this.options = options;
        this.mode = options.failureMode();
        this.kv = new KvCache(options.kvBlocks(), options.prefixCaching());
        Transport transport = Transport.select(options.transport());
        this.group = transport.newGroup(options.ioThreads(), "sluice-sim");
        this.bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        children.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 << 20),
                                new SimHandler(VllmSimulator.this));
                    }
                });
        try {
            server = bind(options.port());
            port = ((InetSocketAddress) server.localAddress()).getPort();
            if (mode == FailureMode.REFUSE) {
                server.close().syncUninterruptibly();
                server = null;
            }
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    /** Binds and returns once the port accepts connections (or, in REFUSE mode, once the port is known). */
    public static VllmSimulator start(SimulatorOptions options) {
        return new VllmSimulator(options);
    }

    public SimulatorOptions options() {
        return options;
    }

    public int port() {
        return port;
    }

    public String baseUrl() {
        return "http://" + options.host() + ":" + port;
    }

    public FailureMode failureMode() {
        return mode;
    }

    /**
     * Switches behaviour for requests that arrive from now on. Entering REFUSE closes the listener and
     * every open connection; leaving it binds the same port again.
     */
    public synchronized void setFailureMode(FailureMode next) {
        if (closed) {
            throw new IllegalStateException("simulator is closed");
        }
        FailureMode prev = mode;
        mode = next;
        if (next == FailureMode.REFUSE && server != null) {
            server.close().syncUninterruptibly();
            server = null;
            dropConnections();
        } else if (next != FailureMode.REFUSE && server == null) {
            server = bind(port);
        }
        if (prev != next) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    /** Closes the listener and all connections, then stops the event loops and waits for them. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (server != null) {
                server.close().syncUninterruptibly();
                server = null;
            }
        }
        dropConnections();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** Inference requests received ({@code /v1/chat/completions}, {@code /v1/completions}), whatever became of them. */
    public long requestsTotal() { return requests.get(); }
    public long running() { return running; }
    public long waiting() { return waiting; }
    public long completed() { return completed.get(); }
    /** Requests whose client went away before the response finished: while waiting, prefilling or streaming. */
    public long aborted() { return aborted.get(); }
    public long promptTokensTotal() { return promptTokens.get(); }
    public long generationTokensTotal() { return generationTokens.get(); }
    /** Prompt tokens looked up in the prefix cache ({@code vllm:prefix_cache_queries}); 0 without prefix caching. */
    public long prefixCacheQueries() { return prefixQueries; }
    /** Prompt tokens found in the prefix cache ({@code vllm:prefix_cache_hits}). */
    public long prefixCacheHits() { return prefixHits; }

    /** Requests the simulator admitted and has finished with, oldest first (the last {@value #LOG_SIZE}). */
    public List<ScheduledRequest> scheduled() {
        synchronized (lock) {
            return List.copyOf(log);
        }
    }

    /**
     * Fraction of the KV blocks filled by running sequences ({@code vllm:kv_cache_usage_perc}): their prompts
     * and the tokens generated so far, a shared prefix block once. Cached blocks nobody holds count as free,
     * as in vLLM.
     */
    public double kvUsage() {
        synchronized (lock) {
            return kvUsageLocked();
        }
    }

    /** KV blocks reserved by running sequences: their prompts and whole outputs. */
    public int kvBlocksReserved() {
        synchronized (lock) {
            return kv.reserved();
        }
    }

    /** Prefix-cache blocks that no running sequence holds, evicted first-in least recently used. */
    public int kvBlocksCachedIdle() {
        synchronized (lock) {
            return kv.evictable();
        }
    }

    /** Cached blocks evicted to make room for running sequences. */
    public long kvEvictions() {
        synchronized (lock) {
            return kv.evictions();
        }
    }

    /**
     * How the simulator scheduled one request.
     *
     * @param promptTokens       tokens of the rendered prompt, as the prefix cache counts them
     * @param cachedTokens       leading prompt tokens found in the prefix cache
     * @param prefill            time from admission to the first token, as scheduled
     * @param maxItl             the longest inter-token interval scheduled (zero for a single token)
     * @param runningAtAdmission running sequences, this one included, when it was admitted
     */
    public record ScheduledRequest(String id, int promptTokens, int cachedTokens, Duration prefill, Duration maxItl,
                                   int runningAtAdmission) {
    }

    static final int LOG_SIZE = 4096;

    public boolean awaitAborted(long n, Duration timeout) {
        return await(s -> s.aborted() >= n, timeout);
    }

    /**
     * Waits until {@code condition} holds. Request-level transitions wake waiters at once; token
     * counters are re-checked every few milliseconds.
     */
    public boolean await(Predicate<VllmSimulator> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (!condition.test(this)) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                try {
                    lock.wait(Math.min(left, 10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return condition.test(this);
                }
            }
            return true;
        }
    }

    // ---- used by the handler and generations ----

    boolean serves(String model) {
        return options.models().contains(model);
    }

    void countRequest() {
        requests.incrementAndGet();
    }

    void countGenerationToken() {
        generationTokens.incrementAndGet();
    }

    /** Admits now or queues; an admitted generation starts on its own event loop. */
    void submit(Generation g) {
        boolean admitted;
        synchronized (lock) {
            g.arrivedNanos = System.nanoTime();
            admitted = queue.isEmpty() && tryAdmit(g);
            if (!admitted) {
                g.queued = true;
                queue.add(g);
                waiting++;
            }
            lock.notifyAll();
        }
        if (admitted) {
            g.startSoon();
        }
    }

    /** Admits when a slot and the KV blocks are free; computes the prefill time. Holds the lock. */
    private boolean tryAdmit(Generation g) {
        if (running >= options.maxNumSeqs()) {
            return false;
        }
        KvCache.Allocation a = kv.allocate(g.prompt, g.total());
        if (a == null) {
            return false;
        }
        g.kv = a;
        g.admitted = true;
        active.add(g);
        running++;
        int hitTokens = a.hitBlocks * Prompt.BLOCK_SIZE;
        if (options.prefixCaching()) {
            prefixQueries += g.prompt.tokens();
            prefixHits += hitTokens;
        }
        g.cachedTokens = hitTokens;
        g.runningAtAdmission = running;
        long uncached = Math.max(0, g.prompt.tokens() - hitTokens);
        g.prefillNanos = options.ttft().toNanos()
                + (long) (uncached * options.prefillPerToken().toNanos() * batchFactor());
        return true;
    }

    /** {@code 1 + batchSlowdown * (running - 1)}: how much the batch slows each step. */
    private double batchFactor() {
        return 1 + options.batchSlowdown() * Math.max(0, running - 1);
    }

    /** The next inter-token interval at the current batch size. */
    long itlNanos() {
        return (long) (options.itl().toNanos() * batchFactor());
    }

    /** The first token is out: the prompt is computed (its blocks enter the cache) and its TTFT observed. */
    void prefilled(Generation g, int usagePromptTokens) {
        promptTokens.addAndGet(usagePromptTokens);
        synchronized (lock) {
            if (g.kv != null) {
                kv.commit(g.kv, g.prompt);
            }
            double seconds = (System.nanoTime() - g.arrivedNanos) / 1e9;
            ttftCount++;
            ttftSum += seconds;
            for (int i = 0; i < Wire.TTFT_BUCKETS.length; i++) {
                if (seconds <= Wire.TTFT_BUCKETS[i]) {
                    ttftBuckets[i]++;
                    break;
                }
            }
        }
    }

    /** Frees whatever the generation holds (queue entry, or slot and blocks) and admits the waiters that now fit. */
    void release(Generation g, Outcome outcome) {
        List<Generation> next = null;
        synchronized (lock) {
            if (g.queued) {
                g.queued = false;
                queue.remove(g);
                waiting--;
            } else if (g.admitted) {
                g.admitted = false;
                kv.free(g.kv);
                g.kv = null;
                active.remove(g);
                running--;
                if (log.size() == LOG_SIZE) {
                    log.removeFirst();
                }
                log.addLast(new ScheduledRequest(g.id(), g.prompt.tokens(), g.cachedTokens,
                        Duration.ofNanos(g.prefillNanos), Duration.ofNanos(g.maxItlNanos), g.runningAtAdmission));
            }
            // Also when a waiter left: the head it blocked may fit now.
            for (Iterator<Generation> it = queue.iterator(); it.hasNext(); ) {
                Generation head = it.next();
                if (!tryAdmit(head)) {
                    break;
                }
                it.remove();
                head.queued = false;
                waiting--;
                if (next == null) {
                    next = new ArrayList<>();
                }
                next.add(head);
            }
            if (outcome == Outcome.COMPLETED) {
                completed.incrementAndGet();
                finished[(g.length ? Wire.FinishReason.LENGTH : Wire.FinishReason.STOP).ordinal()]++;
            } else if (outcome == Outcome.ABORTED) {
                aborted.incrementAndGet();
                finished[Wire.FinishReason.ABORT.ordinal()]++;
            }
            lock.notifyAll();
        }
        if (next != null) {
            for (Generation n : next) {
                n.startSoon();
            }
        }
    }

    /** Holds the lock. */
    private double kvUsageLocked() {
        long unfilled = 0;
        for (Generation g : active) {
            KvCache.Allocation a = g.kv;
            unfilled += Math.max(0, a.reserved - Prompt.blocksFor((long) g.prompt.tokens() + g.emitted()));
        }
        return Math.min(1.0, Math.max(0, kv.reserved() - unfilled) / (double) kv.capacity());
    }

    String metricsText() {
        synchronized (lock) {
            long[] cumulative = new long[ttftBuckets.length];
            long sum = 0;
            for (int i = 0; i < ttftBuckets.length; i++) {
                sum += ttftBuckets[i];
                cumulative[i] = sum;
            }
            return Wire.metrics(options.models().get(0), new Wire.Snapshot(running, waiting, kvUsageLocked(),
                    prefixQueries, prefixHits, promptTokens.get(), generationTokens.get(), finished.clone(),
                    cumulative, ttftCount, ttftSum));
        }
    }

    private Channel bind(int wanted) {
        Throwable last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            ChannelFuture f = bootstrap.bind(options.host(), wanted).awaitUninterruptibly();
            if (f.isSuccess()) {
                return f.channel();
            }
            last = f.cause();
            if (wanted == 0) {
                break;
            }
            try { // a just-closed listener can linger for a moment
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new IllegalStateException("cannot listen on " + options.host() + ":" + wanted, last);
    }

    private void dropConnections() {
        for (Channel ch : children) {
            ch.attr(SERVER_CLOSED).set(Boolean.TRUE);
        }
        children.close().awaitUninterruptibly();
    }
}
