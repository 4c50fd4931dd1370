package io.sluice.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;
import java.util.List;

/**
 * {@code HttpServerCodec} made strict for an edge proxy: a request with both {@code Content-Length}
 * and {@code Transfer-Encoding} is refused (RFC 9112 §6.1: the request-smuggling shape) instead of
 * silently dropping the length as Netty does by default; lines must end in CRLF; and a head with
 * obsolete line folding (RFC 9112 §5.2), which Netty unfolds silently, is marked as a decoding
 * failure, in every request of a pipelined batch alike. The encoder keeps HEAD responses bodiless,
 * as HttpServerCodec does, by remembering each request's method.
 */
final class ServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);

    ServerCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    /**
     * The body of the response head written next goes out as the raw bytes written after it (already
     * framed: an upstream's pass-through body), up to the {@code LastHttpContent} that ends it.
     */
    void passThroughNext() {
        ((Encoder) outboundHandler()).passThroughNext = true;
    }

    /** No undecoded input is buffered and no response is awaited. */
    boolean atRest() {
        return methods.isEmpty() && !((Decoder) inboundHandler()).buffered();
    }

    private final class Decoder extends HttpRequestDecoder {
        // The head scanner: between a request's end and the blank line of the next head.
        private boolean inHead = true;
        private boolean started;      // past the control characters a decoder skips before a request line
        private boolean lineStart;
        private boolean folded;
        private boolean upgrading;    // the request being read asks for a WebSocket
        private boolean paused;       // ...and has been read: what follows is not HTTP (or not before its answer)

        Decoder(HttpDecoderConfig config) {
            super(config.clone().setStrictLineParsing(true));
        }

        boolean buffered() {
            return internalBuffer().isReadable();
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (paused) {
                // After a WebSocket upgrade request the bytes stay buffered: frames for the tunnel, handed on
                // when the codec is removed; if the upgrade is refused, the connection closes after the answer.
                return;
            }
            int before = out.size();
            int from = in.readerIndex();
            super.decode(ctx, in, out);
            if (inHead) {
                // The decoder consumes a head up to its blank line and stops there, so these are head bytes.
                scanHead(in, from, in.readerIndex());
            }
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpRequest) {
                    HttpRequest req = (HttpRequest) o;
                    methods.add(req.method());
                    upgrading = io.sluice.http.websocket.WebSockets.isUpgrade(req.headers());
                    if (folded && req.decoderResult().isSuccess()) {
                        req.setDecoderResult(DecoderResult.failure(
                                new IllegalArgumentException("obsolete line folding in the request head")));
                    }
                    folded = false;
                }
                if (o instanceof LastHttpContent) {
                    paused = upgrading;
                    inHead = true;
                    started = false;
                    lineStart = false;
                }
            }
        }

        private void scanHead(ByteBuf in, int from, int to) {
            for (int i = from; i < to && inHead; i++) {
                byte b = in.getByte(i);
                if (!started) {
                    started = b > ' '; // leading CRLFs and controls are skipped, as the decoder does
                    continue;
                }
                if (lineStart) {
                    if (b == ' ' || b == '\t') {
                        folded = true;
                    } else if (b == '\r' || b == '\n') {
                        inHead = false; // the blank line
                    }
                }
                lineStart = b == '\n';
            }
        }

        @Override
        protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
            throw new IllegalArgumentException("both Content-Length and Transfer-Encoding");
        }
    }

    private final class Encoder extends HttpResponseEncoder {
        private boolean passThroughNext;
        private boolean passingThrough;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (passingThrough) {
                if (msg instanceof ByteBuf) {
                    ctx.write(msg, promise);
                    return;
                }
                // The end: the encoder, which saw a head without a body, writes nothing more and awaits the next head.
                passingThrough = !(msg instanceof LastHttpContent);
            }
            super.write(ctx, msg, promise);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL && msg.status().code() != 101) {
                return true; // 100 Continue: the final response for this request is still to come
            }
            HttpMethod method = methods.poll();
            if (passThroughNext) {
                passThroughNext = false;
                passingThrough = true;
                return true; // encodes the head as it is; the body's bytes bypass the encoder
            }
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }
}
