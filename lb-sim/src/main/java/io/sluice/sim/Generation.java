package io.sluice.sim;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One sequence being "decoded": a timer on the connection's event loop emits a token every
 * inter-token interval after the time to first token, so thousands of streams cost a scheduled task
 * each and no threads.
 *
 * <p>All state except the admission flags is confined to the connection's event loop.
 */
final class Generation implements Runnable {
    private final VllmSimulator sim;
    private final SimHandler owner;
    private final ChannelHandlerContext ctx;
    private final boolean chat;
    private final boolean stream;
    private final boolean includeUsage;
    final boolean keepAlive;
    private final boolean resetMidStream;
    private final int promptTokens;
    /** Tokens to generate; when finishing with "stop" the last one is the EOS, which has no text. */
    private final int total;
    final boolean length;
    private final String id;
    private final String model;
    private final long created;
    private final byte[] head;

    /** Token identities for the prefix cache. */
    final Prompt prompt;

    boolean queued;   // guarded by the simulator's lock
    boolean admitted; // guarded by the simulator's lock
    KvCache.Allocation kv;  // guarded by the simulator's lock, while admitted
    long arrivedNanos;      // guarded by the simulator's lock
    long prefillNanos;      // set on admission, before start
    int cachedTokens;       // set on admission
    int runningAtAdmission; // set on admission
    /** Longest inter-token interval scheduled; event loop. */
    long maxItlNanos;

    /** Tokens generated so far; read by the simulator for KV usage. */
    private volatile int emitted;
    private long deadline;
    private ScheduledFuture<?> timer;
    private boolean paused;
    private boolean done;

    Generation(VllmSimulator sim, SimHandler owner, ChannelHandlerContext ctx, boolean chat, boolean stream,
               boolean includeUsage, boolean keepAlive, boolean resetMidStream, int promptTokens, int total,
               boolean length, String id, String model, Prompt prompt) {
        this.sim = sim;
        this.owner = owner;
        this.ctx = ctx;
        this.chat = chat;
        this.stream = stream;
        this.includeUsage = includeUsage;
        this.keepAlive = keepAlive;
        this.resetMidStream = resetMidStream;
        this.promptTokens = promptTokens;
        this.total = total;
        this.length = length;
        this.id = id;
        this.model = model;
        this.prompt = prompt;
        this.created = Wire.epochSeconds();
        this.head = stream ? Wire.chunkHead(id, chat ? "chat.completion.chunk" : "text_completion", created, model)
                : null;
    }

    /** Called once admitted (possibly from another loop, when a slot frees up elsewhere). */
    void startSoon() {
        EventLoop loop = ctx.channel().eventLoop();
        if (loop.inEventLoop()) {
            start();
            return;
        }
        try {
            loop.execute(this::start);
        } catch (RejectedExecutionException e) { // shutting down; the connection is being closed too
            abort(true);
        }
    }

    private void start() {
        if (done) {
            return;
        }
        deadline = System.nanoTime() + prefillNanos;
        timer = ctx.executor().schedule(this, prefillNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Emits the next token. Deadlines advance from the schedule, not from when we ran, so jitter does not add
     * up; but a sequence that fell behind never catches up in a burst (no two tokens closer than half an
     * interval), as a late GPU step does not emit the missed tokens at once. Bursts would read as "glued"
     * chunks in the benchmarks and blame the proxy for the simulator's lateness.
     */
    @Override
    public void run() {
        timer = null;
        if (done) {
            return;
        }
        if (stream && !ctx.channel().isWritable()) { // the client reads slower than we generate: wait for it
            paused = true;
            return;
        }
        if (emitted == 0) {
            sim.prefilled(this, promptTokens);
        }
        if (resetMidStream && (emitted == sim.options().resetAfterTokens() || emitted == total - 1)) {
            reset();
            return;
        }
        if (stream) {
            writeToken(emitted);
        }
        sim.countGenerationToken();
        if (++emitted == total) {
            finish();
            return;
        }
        long itl = sim.itlNanos();
        maxItlNanos = Math.max(maxItlNanos, itl);
        long now = System.nanoTime();
        deadline = Math.max(deadline + itl, now + itl / 2);
        timer = ctx.executor().schedule(this, deadline - now, TimeUnit.NANOSECONDS);
    }

    int emitted() {
        return emitted;
    }

    String id() {
        return id;
    }

    int promptTokens() {
        return promptTokens;
    }

    int total() {
        return total;
    }

    /** The channel drained below its high-water mark: continue where we paused, one interval at a time again. */
    void resume() {
        if (paused && !done) {
            paused = false;
            deadline = System.nanoTime();
            run();
        }
    }

    /** The connection closed before the response completed; vLLM aborts the request and frees its slot. */
    void abort(boolean serverClosed) {
        if (done) {
            return;
        }
        done = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        sim.release(this, serverClosed ? VllmSimulator.Outcome.DROPPED : VllmSimulator.Outcome.ABORTED);
    }

    private void writeToken(int i) {
        if (i == 0 && chat) {
            write(head, Wire.CHAT_ROLE, Wire.EMPTY, Wire.EMPTY);
        }
        boolean last = i == total - 1;
        byte[] text = last && !length ? Wire.EMPTY : Wire.tokenBytes(i);
        byte[] end;
        if (!last) {
            end = chat ? Wire.CHAT_END : Wire.TEXT_END;
        } else if (length) {
            end = chat ? Wire.CHAT_END_LENGTH : Wire.TEXT_END_LENGTH;
        } else {
            end = chat ? Wire.CHAT_END_STOP : Wire.TEXT_END_STOP;
        }
        write(head, chat ? Wire.CHAT_MID : Wire.TEXT_MID, text, end);
    }

    private void write(byte[] a, byte[] b, byte[] c, byte[] d) {
        ByteBuf buf = ctx.alloc().directBuffer(a.length + b.length + c.length + d.length);
        buf.writeBytes(a).writeBytes(b).writeBytes(c).writeBytes(d);
        ctx.writeAndFlush(new DefaultHttpContent(buf), ctx.voidPromise());
    }

    private void finish() {
        done = true;
        // Before the last bytes: a client that has the whole answer finds the slot, the blocks and the
        // scheduled() entry already released (tests read them right after; epoll made the race visible).
        sim.release(this, VllmSimulator.Outcome.COMPLETED);
        ChannelFuture last;
        if (stream) {
            if (includeUsage) {
                write(head, Wire.usageTail(promptTokens, total), Wire.EMPTY, Wire.EMPTY);
            }
            write(Wire.DONE, Wire.EMPTY, Wire.EMPTY, Wire.EMPTY);
            last = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            StringBuilder text = new StringBuilder();
            for (int i = 0, visible = length ? total : total - 1; i < visible; i++) {
                text.append(Wire.token(i));
            }
            String finish = length ? "length" : "stop";
            String body = chat
                    ? Wire.chatCompletion(id, created, model, text.toString(), finish, promptTokens, total)
                    : Wire.textCompletion(id, created, model, text.toString(), finish, promptTokens, total);
            last = SimHandler.respond(ctx, HttpResponseStatus.OK, SimHandler.JSON, body, keepAlive);
        }
        owner.finished(ctx, this, last);
    }

    /** The backend "dies" where the next token was due: RST instead of FIN, so clients see a reset, not an EOF. */
    private void reset() {
        done = true;
        sim.release(this, VllmSimulator.Outcome.DROPPED);
        SimHandler.reset(ctx.channel());
    }
}
