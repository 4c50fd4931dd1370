package io.sluice.http.pool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The HTTP/1.1 codec of an upstream connection: Netty's response decoder and request encoder, as in
 * {@code HttpClientCodec} (which this replaces), plus a <em>pass-through body</em>. After a response
 * head, {@link #passThrough} makes the decoder hand on the body as the bytes the backend sent, framing
 * included, instead of one {@code HttpContent} per chunk that the client's encoder frames again: a
 * chunked body as retained slices of what was read, checked by a small chunk scanner that finds its end
 * (so the connection can be pooled again) and refuses what a client could parse differently, then
 * {@link LastHttpContent#EMPTY_LAST_CONTENT}; a length-delimited body likewise, counted.
 *
 * <p>What the scanner lets through is unambiguous for any client: a size line is 1 to 16 hex digits, optional
 * {@code ;}-extensions of visible characters and tabs, and CRLF, never a bare CR or LF; chunk data
 * is followed by CRLF. A size line is handed on only once it is complete, so a body always breaks
 * between chunks or inside chunk data. The last chunk's line and any trailers are dropped and
 * {@code 0\r\n\r\n} sent instead (as nginx, which forwards no upstream trailers). A body that breaks
 * these rules ends with a failed {@code LastHttpContent}, which the proxy treats as a malformed body.
 */
public final class UpstreamCodec extends CombinedChannelDuplexHandler<UpstreamCodec.Decoder, UpstreamCodec.Encoder> {
    static final int MAX_SIZE_LINE = 1024;
    static final int MAX_SIZE_DIGITS = 16;
    static final int MAX_TRAILERS = 16 * 1024;
    private static final ByteBuf LAST_CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(5).writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII))).asReadOnly();

    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);

    public UpstreamCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    /**
     * Whether {@code head} (as decoded, before anything changes its headers) frames its body so that it
     * can pass through: chunked, or a length greater than zero. A body read until the connection closes
     * is always decoded.
     */
    public static boolean framed(HttpResponse head) {
        List<String> codings = head.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty()) {
            // Only the one reading every parser agrees on; other codings stay with the decoder.
            return codings.size() == 1 && "chunked".equalsIgnoreCase(codings.get(0).trim());
        }
        return HttpUtil.getContentLength(head, -1L) > 0;
    }

    /**
     * Called with a {@link #framed} response head as it is handed on: its body comes as the bytes the
     * backend sent from here on, then {@link LastHttpContent#EMPTY_LAST_CONTENT}.
     */
    public void passThrough(HttpResponse head) {
        inboundHandler().passThrough(head);
    }

    /** Whether the pass-through body handed on so far ends between two chunks (a chunk can be added there). */
    public boolean atChunkBoundary() {
        Decoder d = inboundHandler();
        return d.mode == Decoder.CHUNKED && d.state == Decoder.SIZE_LINE;
    }

    /** Chunks of data begun (or, for a counted body, reads) since the last call: the exchange's chunk count. */
    public int takeChunks() {
        Decoder d = inboundHandler();
        int n = d.chunks;
        d.chunks = 0;
        return n;
    }

    /** The next bytes written go out unencoded: the connection left HTTP after a 101. */
    void upgrade() {
        outboundHandler().upgraded = true;
    }

    final class Decoder extends HttpResponseDecoder {
        static final int OFF = 0, CHUNKED = 1, LENGTH = 2, BROKEN = 3;
        static final int SIZE_LINE = 0, DATA = 1, DATA_END = 2, TRAILER = 3;

        int mode = OFF;
        int state;
        long left;          // of the current chunk's data, or of a length-delimited body
        int trailerBytes;
        int chunks;

        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        void passThrough(HttpResponse head) {
            chunks = 0;
            if (head.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
                mode = CHUNKED;
                state = SIZE_LINE;
                trailerBytes = 0;
            } else {
                mode = LENGTH;
                left = HttpUtil.getContentLength(head, -1L);
                if (left <= 0) {
                    throw new IllegalArgumentException("not a framed body: " + head.headers());
                }
            }
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            switch (mode) {
                case OFF -> super.decode(ctx, in, out);
                case LENGTH -> {
                    int n = (int) Math.min(left, in.readableBytes());
                    if (n > 0) {
                        chunks++;
                        out.add(in.readRetainedSlice(n));
                        left -= n;
                        if (left == 0) {
                            end(out);
                        }
                    }
                }
                case CHUNKED -> scanChunked(in, out);
                default -> in.skipBytes(in.readableBytes()); // BROKEN: the connection is being closed
            }
        }

        /** Hands on whole elements of a chunked body: size lines once complete, data as it comes. */
        private void scanChunked(ByteBuf in, List<Object> out) {
            int start = in.readerIndex();
            int pos = start;
            int end = in.writerIndex();
            // Where the last chunk's line begins: from there on nothing is handed on (trailers are dropped).
            int forwardTo = state == TRAILER ? start : -1;
            boolean done = false;
            scan:
            while (pos < end) {
                switch (state) {
                    case SIZE_LINE -> {
                        int lf = in.indexOf(pos, Math.min(end, pos + MAX_SIZE_LINE), (byte) '\n');
                        if (lf < 0) {
                            if (end - pos >= MAX_SIZE_LINE) {
                                fail(in, out, start, pos, "chunk size line longer than " + MAX_SIZE_LINE + " bytes");
                                return;
                            }
                            break scan; // wait for the rest of the line
                        }
                        long size = chunkSize(in, pos, lf);
                        if (size < 0) {
                            fail(in, out, start, pos, "malformed chunk size line");
                            return;
                        }
                        if (size == 0) {
                            forwardTo = pos;
                            state = TRAILER;
                        } else {
                            left = size;
                            state = DATA;
                            chunks++;
                        }
                        pos = lf + 1;
                    }
                    case DATA -> {
                        int n = (int) Math.min(left, end - pos);
                        pos += n;
                        left -= n;
                        if (left == 0) {
                            state = DATA_END;
                        }
                    }
                    case DATA_END -> {
                        if (end - pos < 2) {
                            break scan;
                        }
                        if (in.getByte(pos) != '\r' || in.getByte(pos + 1) != '\n') {
                            fail(in, out, start, pos, "chunk data not followed by CRLF");
                            return;
                        }
                        pos += 2;
                        state = SIZE_LINE;
                    }
                    default -> { // TRAILER: field lines, dropped, up to the empty line
                        int lf = in.indexOf(pos, end, (byte) '\n');
                        if (lf < 0) {
                            if (trailerBytes + end - pos > MAX_TRAILERS) {
                                fail(in, out, start, forwardTo, "trailers larger than " + MAX_TRAILERS + " bytes");
                                return;
                            }
                            break scan;
                        }
                        trailerBytes += lf + 1 - pos;
                        if (lf == pos || in.getByte(lf - 1) != '\r' || trailerBytes > MAX_TRAILERS
                                || in.indexOf(pos, lf - 1, (byte) '\r') >= 0) {
                            fail(in, out, start, forwardTo, "malformed trailer section");
                            return;
                        }
                        boolean empty = lf - 1 == pos;
                        pos = lf + 1;
                        if (empty) {
                            done = true;
                            break scan;
                        }
                    }
                }
            }
            int to = forwardTo >= 0 ? forwardTo : pos;
            if (to > start) {
                out.add(in.retainedSlice(start, to - start));
            }
            in.readerIndex(pos);
            if (done) {
                out.add(LAST_CHUNK.duplicate());
                end(out);
            }
        }

        private void fail(ByteBuf in, List<Object> out, int start, int goodTo, String why) {
            if (goodTo > start) {
                out.add(in.retainedSlice(start, goodTo - start));
            }
            in.skipBytes(in.readableBytes());
            mode = BROKEN;
            LastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
            failed.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(why)));
            out.add(failed);
        }

        private void end(List<Object> out) {
            mode = OFF;
            reset(); // the decoder still holds this response's head: it starts over at the next one
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        }

        @Override
        protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (mode != OFF) {
                // Closed before the pass-through body ended: nothing may look like its end; the proxy
                // learns of the close from channelInactive.
                if (in.isReadable()) {
                    decode(ctx, in, out);
                }
                return;
            }
            super.decodeLast(ctx, in, out);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            int code = ((HttpResponse) msg).status().code();
            if (code >= 100 && code < 200 && code != 101) {
                return true; // 100 Continue and friends: the response to the request is still to come
            }
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }

    /**
     * The size of a chunk from its size line {@code [from, lf)}, or -1 if the line is not hex digits,
     * optional extensions of visible characters and tabs, and CRLF.
     */
    static long chunkSize(ByteBuf in, int from, int lf) {
        int cr = lf - 1;
        if (cr < from || in.getByte(cr) != '\r') {
            return -1;
        }
        long size = 0;
        int i = from;
        for (; i < cr; i++) {
            int d = Character.digit(in.getByte(i), 16);
            if (d < 0) {
                break;
            }
            if (size > (Long.MAX_VALUE >> 4)) {
                return -1;
            }
            size = size << 4 | d;
        }
        if (i == from || i - from > MAX_SIZE_DIGITS) {
            return -1; // more digits, even leading zeros, are refused by some clients (Go's, for one)
        }
        if (i < cr) {
            while (i < cr && (in.getByte(i) == ' ' || in.getByte(i) == '\t')) {
                i++; // whitespace only before an extension (RFC 9112 §7.1.1)
            }
            if (i == cr || in.getByte(i) != ';') {
                return -1;
            }
            for (; i < cr; i++) {
                byte b = in.getByte(i);
                if ((b < 0x20 && b != '\t') || b == 0x7f) {
                    return -1;
                }
            }
        }
        return size;
    }

    final class Encoder extends HttpRequestEncoder {
        boolean upgraded;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (upgraded) {
                ctx.write(msg, promise);
                return;
            }
            if (msg instanceof HttpRequest) {
                methods.add(((HttpRequest) msg).method());
            }
            super.write(ctx, msg, promise);
        }
    }
}
