package io.sluice.sim.provider;

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
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sluice.core.net.Transport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Map.Entry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A loopback stand-in for a cloud or local LLM provider, speaking one provider's wire format, so the
 * gateway's translation and failure handling can be tested without reaching any real provider.
 *
 * <p>Each format follows its published API reference (the format classes cite theirs):
 * <ul>
 *   <li>{@link Format#OPENAI}: {@code POST /v1/chat/completions} (JSON or SSE chunks, {@code stream_options.include_usage}),
 *       {@code GET /v1/models}; key as {@code Authorization: Bearer}.
 *   <li>{@link Format#ANTHROPIC}: {@code POST /v1/messages} (JSON or named SSE events), {@code GET /v1/models};
 *       key as {@code x-api-key}, {@code anthropic-version} required.
 *   <li>{@link Format#GEMINI}: {@code POST /v1beta/models/{model}:generateContent} and
 *       {@code :streamGenerateContent} (SSE with {@code alt=sse}, else a streamed JSON array),
 *       {@code GET /v1beta/models}; key as {@code x-goog-api-key} or {@code ?key=}.
 *   <li>{@link Format#OLLAMA}: {@code POST /api/chat} and {@code /api/generate} (NDJSON, streaming by default),
 *       {@code GET /api/tags}, {@code /api/ps}, {@code /api/version}; no key. A model is loaded when used and
 *       unloaded by {@code keep_alive: 0} with no prompt (or no messages).
 * </ul>
 *
 * <p>A generation streams the configured reply in about one word per event: the first after
 * {@code ttft}, then one every {@code itl}. Usage counts the prompt's whitespace-separated words as
 * input tokens and the pieces sent as output tokens (a tool call counts its four argument pieces).
 *
 * <p>Scripted behaviours, chosen by the requested model name (any other name answers normally), each
 * in the format's own shape:
 * <ul>
 *   <li>{@code rate-limited}: 429 with {@code Retry-After: 7}.
 *   <li>{@code server-error}: 500 (Anthropic: 529 {@code overloaded_error}).
 *   <li>{@code fail-mid-stream}: two content events, then a TCP reset where the next was due, with no final
 *       event; a non-streamed request is reset before any response.
 *   <li>{@code error-mid-stream}: two content events, then an in-band error and the end of the response
 *       (OpenAI {@code data: {"error":…}} without {@code [DONE]}, Anthropic {@code event: error}
 *       {@code overloaded_error}, Gemini {@code data: {"error":…}}, Ollama an {@code {"error":…}} line);
 *       a non-streamed request gets the {@code server-error} answer.
 *   <li>{@code tool-call}: a call of the request's first tool (a function named {@code get_weather} when
 *       the request has none) with arguments {@code {"city":"Paris","unit":"celsius"}}, streamed in four
 *       argument deltas by OpenAI and Anthropic, whole by Gemini and Ollama; stop reason
 *       {@code tool_calls} / {@code tool_use} / {@code STOP} / done {@code stop}.
 *   <li>{@code multibyte}: the reply {@code "Grüße, 世界! 👋🏽 ok"} in nine pieces (each whole UTF-8), every
 *       event written in two flushes cut inside a multi-byte character, so HTTP chunk boundaries split
 *       characters.
 *   <li>{@code slow}: 200 ms between events, for cancellation tests.
 * </ul>
 * Ollama tags ({@code slow:latest}) and Gemini resource names ({@code models/slow}) select the same.
 *
 * <p>A client that closes its connection before a generation ends cancels it ({@link #cancelled()});
 * its scheduled writes stop. Unknown paths get the format's 404 and malformed JSON its 400.
 */
public final class ProviderSimulator implements AutoCloseable {
    /** The wire format served. */
    public enum Format {
        OPENAI("OpenAI"), ANTHROPIC("Anthropic"), GEMINI("Gemini"), OLLAMA("Ollama");

        private final String displayName;

        Format(String displayName) {
            this.displayName = displayName;
        }

        public String displayName() {
            return displayName;
        }

        /** Accepts {@code openai}, {@code anthropic}, {@code gemini}, {@code ollama} in any case. */
        public static Format parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown provider '" + text + "' (openai, anthropic, gemini, ollama)");
            }
        }
    }

    /** Set on channels the simulator closes itself, so their unfinished generations are not counted as cancelled. */
    static final AttributeKey<Boolean> SERVER_CLOSED = AttributeKey.valueOf("sluice.providersim.serverClosed");
    private static final int RECORDED = 100;

    private final ProviderSimOptions options;
    private final EventLoopGroup group;
    private final ChannelGroup children = new DefaultChannelGroup("sluice-provider-sim", GlobalEventExecutor.INSTANCE);
    private final Channel server;
    private final int port;
    private final Object lock = new Object();
    private final ArrayDeque<RecordedRequest> recorded = new ArrayDeque<>(); // guarded by lock
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private volatile boolean closed;

    private ProviderSimulator(ProviderSimOptions options) throws InterruptedException {
        this.options = options;
        Dialect dialect = dialect(options);
        Transport transport = Transport.select("auto");
        this.group = transport.newGroup(1, "sluice-provider-sim");
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        children.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 << 20),
                                new ProviderHandler(ProviderSimulator.this, dialect));
                    }
                });
        ChannelFuture bound = bootstrap.bind(options.host(), options.port()).await();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            throw new IllegalStateException("cannot listen on " + options.host() + ":" + options.port(), bound.cause());
        }
        server = bound.channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Binds and returns once the port accepts connections. */
    public static ProviderSimulator start(ProviderSimOptions options) throws InterruptedException {
        return new ProviderSimulator(options);
    }

    private Dialect dialect(ProviderSimOptions o) {
        switch (o.format()) {
            case OPENAI: return new OpenAiDialect(o);
            case ANTHROPIC: return new AnthropicDialect(o);
            case GEMINI: return new GeminiDialect(o);
            default: return new OllamaDialect(o);
        }
    }

    public ProviderSimOptions options() {
        return options;
    }

    public Format format() {
        return options.format();
    }

    public int port() {
        return port;
    }

    /** What a client sets as the provider's base URL: OpenAI's includes {@code /v1}, the others are the root. */
    public String baseUrl() {
        String root = "http://" + options.host() + ":" + port;
        return options.format() == Format.OPENAI ? root + "/v1" : root;
    }

    /** Requests received, on any path, whatever became of them. */
    public long requests() {
        return requests.get();
    }

    /** Generations that finished normally (streams ended with the format's final event, full bodies sent). */
    public long completed() {
        return completed.get();
    }

    /** Generations whose client closed the connection before the end. */
    public long cancelled() {
        return cancelled.get();
    }

    /** The most recent request, or null if none arrived yet. */
    public RecordedRequest lastRequest() {
        synchronized (lock) {
            return recorded.peekLast();
        }
    }

    /** The last 100 requests, oldest first. */
    public List<RecordedRequest> requestsSeen() {
        synchronized (lock) {
            return List.copyOf(recorded);
        }
    }

    /** Waits until {@code condition} holds, re-checking on every counted event and every few milliseconds. */
    public boolean await(Predicate<ProviderSimulator> condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (!condition.test(this)) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.min(left, 10));
            }
            return true;
        }
    }

    /** Closes the listener and every connection, then stops the event loop and waits for it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.close().syncUninterruptibly();
        for (Channel ch : children) {
            ch.attr(SERVER_CLOSED).set(Boolean.TRUE);
        }
        children.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    // ---- used by the handler ----

    void record(FullHttpRequest req) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Entry<String, String> h : req.headers()) {
            headers.computeIfAbsent(h.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.getValue());
        }
        headers.replaceAll((k, v) -> List.copyOf(v));
        RecordedRequest r = new RecordedRequest(req.method().name(), req.uri(), headers,
                req.content().toString(StandardCharsets.UTF_8));
        synchronized (lock) {
            if (recorded.size() == RECORDED) {
                recorded.removeFirst();
            }
            recorded.addLast(r);
            requests.incrementAndGet();
            lock.notifyAll();
        }
    }

    void countCompleted() {
        synchronized (lock) {
            completed.incrementAndGet();
            lock.notifyAll();
        }
    }

    void countCancelled() {
        synchronized (lock) {
            cancelled.incrementAndGet();
            lock.notifyAll();
        }
    }
}
