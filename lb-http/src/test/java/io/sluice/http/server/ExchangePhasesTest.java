package io.sluice.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.FilterChain;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.route.RouteTarget;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The phases of one exchange, in order, as the exchange handler runs them (no sockets: EmbeddedChannel). */
class ExchangePhasesTest {
    private final List<String> events = new ArrayList<>();
    private final RecordingTarget target = new RecordingTarget();
    private EmbeddedChannel channel;

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel channel(ExchangeFilter... filters) throws Exception {
        ListenerConfig config = ConfigLoader.parse("""
                listeners:
                  - port: 1
                    routes: [ { path: /, pool: p } ]
                pools:
                  p:
                    backends: [ { url: "http://127.0.0.1:1" } ]
                """, "phases.yaml", name -> null).listeners().get(0);
        List<ExchangeFilter> all = new ArrayList<>();
        all.add(new ExchangeFilter() { // stands in for routing
            @Override
            public FullHttpResponse onRequestHead(RequestContext rc) {
                rc.route(new RouteConfig("/", "p", false));
                rc.target(new RouteTarget.Pool("p"));
                return null;
            }
        });
        all.addAll(List.of(filters));
        FilterChain chain = new FilterChain(all);
        ExchangeHandler.Targets targets = new ExchangeHandler.Targets() {
            @Override
            public ExchangeTarget proxy(ChannelHandlerContext ctx) {
                return target;
            }

            @Override
            public ExchangeTarget admin(ChannelHandlerContext ctx) {
                throw new AssertionError("no admin here");
            }
        };
        channel = new EmbeddedChannel(new ExchangeHandler(() -> config, () -> chain, targets, null, List.of(), null));
        return channel;
    }

    /** Records every phase it sees. */
    private final class Recorder implements ExchangeFilter {
        final String name;
        boolean wantBody;

        Recorder(String name) {
            this.name = name;
        }

        @Override
        public FullHttpResponse onRequestHead(RequestContext rc) {
            events.add(name + ":head");
            return null;
        }

        @Override
        public boolean wantsBody(RequestContext rc) {
            return wantBody;
        }

        @Override
        public FullHttpResponse onRequestBody(RequestContext rc) {
            events.add(name + ":body=" + rc.body().toString(StandardCharsets.UTF_8));
            return null;
        }

        @Override
        public void onUpstreamRequest(RequestContext rc, HttpRequest upstream) {
            events.add(name + ":upstream");
        }

        @Override
        public void onResponseHead(RequestContext rc, HttpResponse response) {
            events.add(name + ":response " + response.status().code());
        }

        @Override
        public boolean onResponseContent(RequestContext rc, HttpContent content) {
            events.add(name + ":content " + content.content().readableBytes());
            return true;
        }

        @Override
        public void onEnd(RequestContext rc) {
            events.add(name + ":end");
        }
    }

    /** A target that records what reaches it and answers when told to. */
    private final class RecordingTarget implements ExchangeTarget {
        RequestContext rc;
        final List<String> got = new ArrayList<>();
        boolean aborted;
        boolean closed;

        @Override
        public void onRequest(RequestContext rc, HttpRequest head) {
            this.rc = rc;
            rc.chain().upstreamRequest(rc, head);
            got.add(head instanceof FullHttpRequest f ? "full:" + f.content().toString(StandardCharsets.UTF_8) : "head");
            ReferenceCountUtil.release(head);
        }

        @Override
        public void onRequestContent(HttpContent content) {
            got.add((content instanceof LastHttpContent ? "last:" : "part:") + content.content().toString(StandardCharsets.UTF_8));
            content.release();
        }

        @Override
        public void onClientClosed() {
            closed = true;
        }

        @Override
        public void abort() {
            aborted = true;
        }

        void respond(String... chunks) {
            DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
            rc.write(head);
            for (String c : chunks) {
                rc.write(new DefaultHttpContent(Unpooled.copiedBuffer(c, StandardCharsets.UTF_8)));
            }
            rc.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    private static HttpRequest post(String path, int length) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path);
        r.headers().set(HttpHeaderNames.HOST, "localhost").setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        return r;
    }

    private static HttpContent part(String s) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
    }

    private static LastHttpContent last(String s) {
        return new DefaultLastHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
    }

    private void drainOutbound() {
        Object o;
        while ((o = channel.readOutbound()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    @Test
    void phasesRunInOrderAndTheBodyStreamsWhenNoFilterWantsIt() throws Exception {
        channel(new Recorder("a"), new Recorder("b"), RequestIds.INSTANCE);
        channel.writeInbound(post("/v1/chat/completions", 6), part("abc"), last("def"));
        assertEquals(List.of("head", "part:abc", "last:def"), target.got, "parts reach the target as they came");
        target.respond("x", "yz");
        assertEquals(List.of("a:head", "b:head", "a:upstream", "b:upstream", "a:response 200", "b:response 200",
                "a:content 1", "b:content 1", "a:content 2", "b:content 2", "a:content 0", "b:content 0",
                "a:end", "b:end"), events);
        HttpResponse resp = channel.readOutbound();
        assertTrue(resp.headers().contains("x-request-id"), "the request-id filter stamps the response");
        drainOutbound();
    }

    @Test
    void aFilterThatWantsTheBodySeesAllOfItAndTheTargetGetsOneFullRequest() throws Exception {
        Recorder r = new Recorder("m");
        r.wantBody = true;
        channel(r);
        channel.writeInbound(post("/v1/chat/completions", 6), part("abc"));
        assertEquals(List.of(), target.got, "nothing reaches the target before the body is complete");
        channel.writeInbound(last("def"));
        assertEquals(List.of("full:abcdef"), target.got);
        assertEquals(List.of("m:head", "m:body=abcdef", "m:upstream"), events);
        target.respond();
        drainOutbound();
    }

    @Test
    void aBodyFilterMayReplaceTheBodyAndTheLengthFollows() throws Exception {
        ExchangeFilter rewrite = new ExchangeFilter() {
            @Override
            public boolean wantsBody(RequestContext rc) {
                return true;
            }

            @Override
            public FullHttpResponse onRequestBody(RequestContext rc) {
                rc.body(Unpooled.copiedBuffer("{\"model\":\"real\"}", StandardCharsets.UTF_8));
                return null;
            }
        };
        List<String> lengths = new ArrayList<>();
        ExchangeFilter length = new ExchangeFilter() {
            @Override
            public void onUpstreamRequest(RequestContext rc, HttpRequest upstream) {
                lengths.add(upstream.headers().get(HttpHeaderNames.CONTENT_LENGTH));
            }
        };
        channel(rewrite, length);
        channel.writeInbound(post("/", 3), last("abc"));
        assertEquals(List.of("full:{\"model\":\"real\"}"), target.got);
        assertEquals(List.of("16"), lengths, "Content-Length is the rewritten body's");
        target.respond();
        drainOutbound();
    }

    @Test
    void anAnswerAtTheHeadStopsTheRequestAndItsBodyIsDropped() throws Exception {
        ExchangeFilter refuse = new ExchangeFilter() {
            @Override
            public FullHttpResponse onRequestHead(RequestContext rc) {
                return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.UNAUTHORIZED, "invalid_api_key", "no");
            }
        };
        Recorder after = new Recorder("after");
        channel(refuse, after);
        channel.writeInbound(post("/", 6), part("abc"), last("def"));
        assertEquals(List.of(), target.got, "the target never sees a refused request");
        assertEquals(3, events.size(), events.toString());
        assertEquals(List.of("after:response 401", "after:end"), List.of(events.get(0), events.get(2)),
                "later filters do not run their head phase, but see the answer (head and content) and the end");
        assertTrue(events.get(1).startsWith("after:content "), events.get(1));
        FullHttpResponse resp = channel.readOutbound();
        assertEquals(401, resp.status().code());
        resp.release();
        assertTrue(channel.isOpen(), "a refusal does not close a keep-alive connection");
    }

    @Test
    void aContentFilterCanEndTheResponseWithAnEventAndTheTargetIsAborted() throws Exception {
        ExchangeFilter meter = new ExchangeFilter() {
            @Override
            public boolean onResponseContent(RequestContext rc, HttpContent content) {
                if (content.content().readableBytes() == 2) {
                    rc.stopResponseWith(Unpooled.copiedBuffer("data: stop\n\n", StandardCharsets.UTF_8));
                    return false;
                }
                return true;
            }
        };
        channel(meter);
        channel.writeInbound(post("/", 0), LastHttpContent.EMPTY_LAST_CONTENT);
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        target.rc.write(head);
        target.rc.write(part("a"));
        target.rc.write(part("bb"));
        target.rc.write(part("ccc")); // after the stop: dropped
        target.rc.flush();
        channel.runPendingTasks();
        assertTrue(target.aborted, "the target (the upstream request) is aborted");
        assertFalse(channel.isOpen(), "the response ends abnormally");
        List<String> out = new ArrayList<>();
        Object o;
        while ((o = channel.readOutbound()) != null) {
            if (o instanceof HttpContent c) {
                out.add(c.content().toString(StandardCharsets.UTF_8));
            }
            ReferenceCountUtil.release(o);
        }
        assertEquals(List.of("a", "bb", "data: stop\n\n"), out);
    }

    @Test
    void theClientGoingAwayEndsTheExchangeOnceAndTellsTheTarget() throws Exception {
        Recorder r = new Recorder("r");
        channel(r);
        channel.writeInbound(post("/", 0), LastHttpContent.EMPTY_LAST_CONTENT);
        channel.close();
        assertTrue(target.closed);
        assertEquals(1, events.stream().filter("r:end"::equals).count());
        RequestContext late = target.rc;
        ByteBuf buf = Unpooled.copiedBuffer("late", StandardCharsets.UTF_8);
        late.write(new DefaultHttpContent(buf)); // a target answering an exchange that is over
        assertEquals(0, buf.refCnt(), "a late write is released, not leaked");
        assertNull(channel.readOutbound());
    }

    @Test
    void aLateWriteOnAnOpenConnectionIsDroppedWithoutClosingIt() throws Exception {
        channel(new Recorder("r"));
        channel.writeInbound(post("/", 0), LastHttpContent.EMPTY_LAST_CONTENT);
        RequestContext done = target.rc;
        target.respond();
        drainOutbound();
        ByteBuf buf = Unpooled.copiedBuffer("late", StandardCharsets.UTF_8);
        done.write(new DefaultHttpContent(buf)); // the exchange is over; the keep-alive connection is not
        assertEquals(0, buf.refCnt());
        assertTrue(channel.isOpen(), "a stale write must not close the connection the next request uses");
        assertNull(channel.readOutbound());
    }

    @Test
    void pipelinedRequestsGetTheirOwnContextInOrder() throws Exception {
        channel(new Recorder("r"));
        channel.writeInbound(post("/one", 0), LastHttpContent.EMPTY_LAST_CONTENT,
                post("/two", 0), LastHttpContent.EMPTY_LAST_CONTENT);
        RequestContext first = target.rc;
        assertEquals("/one", first.path());
        target.respond();
        channel.runPendingTasks();
        assertEquals("/two", target.rc.path());
        assertFalse(first == target.rc);
        target.respond();
        drainOutbound();
        assertEquals(List.of("head", "last:", "head", "last:"), target.got);
    }

    static FullHttpResponse ok() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    }
}
