package io.sluice.http.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The upstream codec's pass-through body, byte by byte: what it hands on is exactly what a client may
 * parse (the backend's chunks as sent, the end as {@code 0\r\n\r\n}), whatever way the reads split the
 * body; what could be parsed two ways ends in a failed part; and the next response on the connection is
 * decoded as before.
 */
class UpstreamCodecTest {
    private static final String HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    private static final String NEXT = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    /** What a channel handed on: the pass-through bytes, the parts, and the heads in order. */
    private static final class Seen {
        final ByteArrayOutputStream raw = new ByteArrayOutputStream();
        final List<Object> parts = new ArrayList<>();
        int rawPieces;
    }

    private static EmbeddedChannel channel(Seen seen, HttpMethod method) {
        return channel(seen, true, method, method);
    }

    /** A connection that sent {@code methods}; with {@code pass}, its first framed response passes through. */
    private static EmbeddedChannel channel(Seen seen, boolean pass, HttpMethod... methods) {
        UpstreamCodec codec = new UpstreamCodec(new HttpDecoderConfig());
        EmbeddedChannel ch = new EmbeddedChannel(codec, new ChannelInboundHandlerAdapter() {
            boolean first = pass;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf b) {
                    seen.rawPieces++;
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    seen.raw.writeBytes(bytes);
                    b.release();
                    return;
                }
                if (msg instanceof HttpResponse r && first && UpstreamCodec.framed(r)) {
                    first = false; // only the first response passes through; the next one is decoded
                    codec.passThrough(r);
                }
                if (msg instanceof HttpContent c) {
                    seen.parts.add(c.decoderResult().isFailure() ? "FAILED " + c.decoderResult().cause().getMessage()
                            : (c instanceof LastHttpContent ? "LAST " : "CONTENT ") + c.content().toString(StandardCharsets.ISO_8859_1));
                } else {
                    seen.parts.add(((HttpObject) msg).getClass().getSimpleName());
                }
                ReferenceCountUtil.release(msg);
            }
        });
        for (HttpMethod method : methods) {
            ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/v1/x"));
            ReferenceCountUtil.release(ch.readOutbound());
        }
        return ch;
    }

    private static void feed(EmbeddedChannel ch, String text, int... splits) {
        byte[] all = text.getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        for (int at : splits) {
            ch.writeInbound(Unpooled.wrappedBuffer(all, from, at - from));
            from = at;
        }
        ch.writeInbound(Unpooled.wrappedBuffer(all, from, all.length - from));
    }

    @Test
    void chunksPassAsSentWhereverTheReadsSplitThem() {
        String body = "000000000000000B;x=1\r\ndata: abc\n\n\r\n18\r\ndata: 0123456789abcdef\n\n\r\n0;end\r\nx-t: 1\r\n\r\n";
        String expected = "000000000000000B;x=1\r\ndata: abc\n\n\r\n18\r\ndata: 0123456789abcdef\n\n\r\n0\r\n\r\n";
        String wire = HEAD + body + NEXT;
        for (int a = HEAD.length(); a <= HEAD.length() + body.length(); a++) {
            for (int b = a; b <= HEAD.length() + body.length(); b += 7) {
                Seen seen = new Seen();
                EmbeddedChannel ch = channel(seen, HttpMethod.GET);
                feed(ch, wire, a, b);
                String where = "split at " + a + " and " + b + " parts " + seen.parts;
                assertEquals(expected, seen.raw.toString(StandardCharsets.ISO_8859_1), where);
                assertEquals(List.of("DefaultHttpResponse", "LAST ", "DefaultHttpResponse", "LAST ok"), seen.parts, where);
                assertFalse(ch.finish());
            }
        }
    }

    @Test
    void aCountedBodyPassesAndTheNextResponseIsDecoded() {
        Seen seen = new Seen();
        EmbeddedChannel ch = channel(seen, HttpMethod.GET);
        String wire = "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world" + NEXT;
        feed(ch, wire, 40, 45);
        assertEquals("hello world", seen.raw.toString(StandardCharsets.ISO_8859_1));
        assertEquals(List.of("DefaultHttpResponse", "LAST ", "DefaultHttpResponse", "LAST ok"), seen.parts);
        assertFalse(ch.finish());
    }

    @Test
    void ambiguousFramingEndsInAFailedPartAfterTheGoodBytes() {
        String good = "5\r\nhello\r\n";
        String[] bad = {
            "zz\r\n",                       // not hex
            "5\nhello\r\n",                 // bare LF after the size
            "5\r\r\nhello\r\n",             // CR inside the line
            "5 \r\nhello\r\n",              // whitespace without an extension
            " 5\r\nhello\r\n",              // leading whitespace
            "5;a\u0001b\r\nhello\r\n",      // a control character in an extension
            "5\r\nhelloXY",                 // data not followed by CRLF
            "5\r\nhello\n",                 // ...nor by a bare LF
            "fffffffffffffffff\r\n",        // overflows
            "00000000000000005\r\nhello\r\n", // 17 digits, if only by leading zeros
            "1".repeat(UpstreamCodec.MAX_SIZE_LINE + 1),   // a size line without end
            "0\r\nx: 1\nboth: 2\r\n\r\n",   // a trailer ending in a bare LF
            "0\r\n\n",                      // an end ending in a bare LF
        };
        for (String b : bad) {
            Seen seen = new Seen();
            EmbeddedChannel ch = channel(seen, HttpMethod.GET);
            feed(ch, HEAD + good + b + NEXT);
            String raw = seen.raw.toString(StandardCharsets.ISO_8859_1);
            // The good chunk whole; of the bad one at most data already consumed, never a line after it.
            assertTrue(raw.startsWith(good) && (good + b).startsWith(raw), b + ": " + raw);
            assertEquals(2, seen.parts.size(), b + ": " + seen.parts);
            assertTrue(((String) seen.parts.get(1)).startsWith("FAILED "), b + ": " + seen.parts);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aCloseBeforeTheEndHandsOnNoEnd() {
        for (String cut : new String[] {"5\r\nhel", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n1"}) {
            Seen seen = new Seen();
            EmbeddedChannel ch = channel(seen, HttpMethod.GET);
            feed(ch, HEAD + cut);
            ch.finish(); // the connection closes
            assertEquals(List.of("DefaultHttpResponse"), seen.parts, cut);
            assertFalse(seen.raw.toString(StandardCharsets.ISO_8859_1).contains("0\r\n\r\n"), cut);
        }
        Seen counted = new Seen();
        EmbeddedChannel ch = channel(counted, HttpMethod.GET);
        feed(ch, "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello");
        ch.finish();
        assertEquals(List.of("DefaultHttpResponse"), counted.parts);
        assertEquals("hello", counted.raw.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void theChunkBoundaryAndTheChunkCountFollowTheBytes() {
        Seen seen = new Seen();
        EmbeddedChannel ch = channel(seen, HttpMethod.GET);
        UpstreamCodec codec = ch.pipeline().get(UpstreamCodec.class);
        feed(ch, HEAD);
        ch.writeInbound(Unpooled.copiedBuffer("3\r\nabc\r\n4\r\nab", StandardCharsets.ISO_8859_1));
        assertFalse(codec.atChunkBoundary(), "inside a chunk's data");
        assertEquals(2, codec.takeChunks());
        ch.writeInbound(Unpooled.copiedBuffer("cd\r\n1", StandardCharsets.ISO_8859_1));
        assertTrue(codec.atChunkBoundary(), "a size line not yet complete was not handed on");
        assertEquals(0, codec.takeChunks());
        assertEquals("3\r\nabc\r\n4\r\nabcd\r\n", seen.raw.toString(StandardCharsets.ISO_8859_1));
        ch.finishAndReleaseAll();
    }

    @Test
    void headAndInformationalResponsesKeepTheirPlaceInLine() {
        Seen seen = new Seen();
        EmbeddedChannel ch = channel(seen, false, HttpMethod.HEAD, HttpMethod.GET);
        // The 100 answers no request; the HEAD answer has no body whatever its headers say.
        feed(ch, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n" + NEXT);
        assertEquals(List.of("DefaultHttpResponse", "LAST ", "DefaultHttpResponse", "LAST ", "DefaultHttpResponse", "LAST ok"),
                seen.parts);
        assertFalse(ch.finish());
    }
}
