package io.sluice.sim.provider;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Replays one generated {@link Reply} on the connection's event loop: a scheduled task per due write,
 * no threads. Confined to that event loop.
 */
final class Emission implements Runnable {
    private final ProviderSimulator sim;
    private final ProviderHandler owner;
    private final ChannelHandlerContext ctx;
    private final Reply reply;
    final boolean keepAlive;
    private int index;
    private ScheduledFuture<?> timer;
    private boolean done;

    Emission(ProviderSimulator sim, ProviderHandler owner, ChannelHandlerContext ctx, Reply reply, boolean keepAlive) {
        this.sim = sim;
        this.owner = owner;
        this.ctx = ctx;
        this.reply = reply;
        this.keepAlive = keepAlive;
    }

    void start() {
        if (reply.events != null) { // providers send the stream's head before the first token
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, reply.status);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType)
                    .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            reply.headers.forEach(head.headers()::set);
            if (!keepAlive) {
                head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            ctx.writeAndFlush(head, ctx.voidPromise());
        }
        timer = ctx.executor().schedule(this, reply.firstDelayNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        timer = null;
        if (done) {
            return;
        }
        if (reply.events == null) {
            if (reply.ending == Reply.Ending.ABORT) {
                abort();
            } else {
                done = true;
                ChannelFuture last = ProviderHandler.send(ctx, reply, keepAlive);
                sim.countCompleted();
                owner.finished(ctx, this, last);
            }
            return;
        }
        boolean tokenDue = true;
        while (index < reply.events.size()) {
            Reply.Event e = reply.events.get(index);
            if (e.token()) {
                if (!tokenDue) {
                    timer = ctx.executor().schedule(this, reply.pace.itl().toNanos(), TimeUnit.NANOSECONDS);
                    return;
                }
                tokenDue = false;
            }
            write(e.bytes());
            index++;
        }
        end();
    }

    /** The connection closed before the end: stop the schedule; a client that went away cancelled it. */
    void connectionClosed(boolean byServer) {
        if (done) {
            return;
        }
        done = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        if (!byServer) {
            sim.countCancelled();
        }
    }

    private void end() {
        switch (reply.ending) {
            case ABORT: // where the next event was due, so what was sent has reached the client first
                done = true;
                ctx.executor().schedule(() -> ProviderHandler.reset(ctx.channel()), reply.pace.itl().toNanos(),
                        TimeUnit.NANOSECONDS);
                return;
            case COMPLETE:
                sim.countCompleted();
                break;
            default:
                break;
        }
        done = true;
        owner.finished(ctx, this, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
    }

    private void abort() {
        done = true;
        ProviderHandler.reset(ctx.channel());
    }

    private void write(byte[] b) {
        int cut = reply.pace.splitMultibyte() ? insideFirstCharacter(b) : -1;
        if (cut > 0) { // two HTTP chunks whose boundary falls inside one UTF-8 sequence
            ctx.writeAndFlush(chunk(b, 0, cut), ctx.voidPromise());
            ctx.writeAndFlush(chunk(b, cut, b.length - cut), ctx.voidPromise());
        } else {
            ctx.writeAndFlush(chunk(b, 0, b.length), ctx.voidPromise());
        }
    }

    private DefaultHttpContent chunk(byte[] b, int from, int length) {
        ByteBuf buf = ctx.alloc().buffer(length);
        buf.writeBytes(b, from, length);
        return new DefaultHttpContent(buf);
    }

    /** Just after the lead byte of the first multi-byte UTF-8 sequence, or -1 when the bytes are ASCII. */
    static int insideFirstCharacter(byte[] b) {
        for (int i = 0; i < b.length; i++) {
            if ((b[i] & 0xC0) == 0xC0) {
                return i + 1;
            }
        }
        return -1;
    }
}
