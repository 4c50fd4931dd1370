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
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A vLLM OpenAI-compatible server stand-in: same wire format and metrics, scripted latency, and
 * switchable failures, so load-balancer behaviour can be tested without GPUs.
 *
 * <p>Admission mirrors vLLM's scheduler closely enough for routing decisions: at most
 * {@code maxNumSeqs} sequences run, the rest wait FIFO, and a client disconnect aborts the request
 * wherever it is and frees its slot.
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

    void countPromptTokens(int n) {
        promptTokens.addAndGet(n);
    }

    void countGenerationToken() {
        generationTokens.incrementAndGet();
    }

    /** Admits now or queues; an admitted generation starts on its own event loop. */
    void submit(Generation g) {
        synchronized (lock) {
            if (running < options.maxNumSeqs()) {
                g.admitted = true;
                running++;
            } else {
                g.queued = true;
                queue.add(g);
                waiting++;
            }
            lock.notifyAll();
        }
        if (g.admitted) {
            g.startSoon();
        }
    }

    /** Frees whatever the generation holds (queue entry or slot) and admits the next waiter. */
    void release(Generation g, Outcome outcome) {
        Generation next = null;
        synchronized (lock) {
            if (g.queued) {
                g.queued = false;
                queue.remove(g);
                waiting--;
            } else if (g.admitted) {
                g.admitted = false;
                running--;
                Iterator<Generation> it = queue.iterator();
                if (it.hasNext()) {
                    next = it.next();
                    it.remove();
                    next.queued = false;
                    next.admitted = true;
                    waiting--;
                    running++;
                }
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
            next.startSoon();
        }
    }

    String metricsText() {
        synchronized (lock) {
            return Wire.metrics(options.models().get(0), running, waiting,
                    Math.min(1.0, (double) running / options.maxNumSeqs()), promptTokens.get(),
                    generationTokens.get(), finished.clone());
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
