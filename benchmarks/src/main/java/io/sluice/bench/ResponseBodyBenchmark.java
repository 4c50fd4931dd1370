package io.sluice.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.sluice.http.pool.UpstreamCodec;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one streamed token costs between the upstream socket's bytes and the client socket's bytes,
 * without the sockets: the upstream codec, then the client's encoder. {@code decoded} is the path every
 * response body took before the pass-through body (a chunk decoded into an {@code HttpContent}, framed
 * again by the client's encoder); {@code passThrough} hands on the read as it is, past one handler that
 * stands for the server codec's pass-through. The input is a read of {@code chunks} vLLM
 * {@code chat.completion.chunk} events in one buffer (1: the usual SSE event per read; 4: glued).
 * Both run in EmbeddedChannels, whose own cost is the same for both.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ResponseBodyBenchmark {
    private static final String EVENT = "data: {\"id\":\"chatcmpl-5d2c1f0e9b8a4c7d\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1764700000,\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"choices\":[{\"index\":0,"
            + "\"delta\":{\"content\":\" token\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    private static final String HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
            + "transfer-encoding: chunked\r\n\r\n";

    @Param({"1", "4"})
    public int chunks;

    private EmbeddedChannel decodedUpstream;
    private EmbeddedChannel decodedClient;
    private EmbeddedChannel passUpstream;
    private EmbeddedChannel passClient;
    private ByteBuf read;

    @Setup(Level.Trial)
    public void setUp() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < chunks; i++) {
            sb.append(Integer.toHexString(EVENT.length())).append("\r\n").append(EVENT).append("\r\n");
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.US_ASCII);
        read = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);

        decodedUpstream = upstream(false);
        decodedClient = new EmbeddedChannel(new HttpResponseEncoder());
        passUpstream = upstream(true);
        passClient = new EmbeddedChannel(new ChannelOutboundHandlerAdapter());
        // The decoding path's encoder has written a chunked head and frames each part from here on.
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        decodedClient.writeOutbound(head);
        drainOutbound(decodedClient);
    }

    /** The size of one read: what the client must receive for it on either path. */
    int readBytes() {
        return read.readableBytes();
    }

    /** An upstream connection that has read a chunked head; with {@code pass}, its body passes through. */
    private static EmbeddedChannel upstream(boolean pass) {
        UpstreamCodec codec = new UpstreamCodec(new HttpDecoderConfig().setMaxChunkSize(64 * 1024));
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        ch.writeInbound(PooledByteBufAllocator.DEFAULT.buffer().writeBytes(HEAD.getBytes(StandardCharsets.US_ASCII)));
        HttpResponse head = ch.readInbound();
        if (pass) {
            codec.passThrough(head);
        }
        return ch;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        read.release();
        for (EmbeddedChannel ch : new EmbeddedChannel[] {decodedUpstream, decodedClient, passUpstream, passClient}) {
            ch.finishAndReleaseAll();
        }
    }

    private static int drainOutbound(EmbeddedChannel ch) {
        int bytes = 0;
        Object o;
        while ((o = ch.readOutbound()) != null) {
            bytes += ((ByteBuf) o).readableBytes();
            ReferenceCountUtil.release(o);
        }
        return bytes;
    }

    private static int relay(EmbeddedChannel upstream, EmbeddedChannel client, ByteBuf in) {
        upstream.writeInbound(in);
        Object msg;
        while ((msg = upstream.readInbound()) != null) {
            client.write(msg);
        }
        client.flush();
        return drainOutbound(client);
    }

    @Benchmark
    public int decoded() {
        return relay(decodedUpstream, decodedClient, read.retainedDuplicate());
    }

    @Benchmark
    public int passThrough() {
        return relay(passUpstream, passClient, read.retainedDuplicate());
    }
}
