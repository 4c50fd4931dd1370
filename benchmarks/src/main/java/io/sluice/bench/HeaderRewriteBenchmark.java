package io.sluice.bench;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.sluice.core.net.ClientAddress;
import io.sluice.http.proxy.Headers;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The header rewriting every proxied exchange pays, on the headers an OpenAI SDK sends and vLLM
 * answers with. Each operation starts from a fresh copy, so {@code copyOnly} is the baseline to
 * subtract: the copy stands in for the decoder, which builds a new header map per message anyway.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HeaderRewriteBenchmark {
    private final HttpHeaders request = new DefaultHttpHeaders()
            .add("host", "gateway.example.com")
            .add("accept", "application/json")
            .add("content-type", "application/json")
            .add("user-agent", "OpenAI/Python 1.54.4")
            .add("x-stainless-lang", "python")
            .add("x-stainless-package-version", "1.54.4")
            .add("x-stainless-runtime", "CPython")
            .add("authorization", "Bearer sk-0123456789abcdef")
            .add("content-length", "187")
            .add("connection", "keep-alive");
    /** A client connected straight to Sluice (no trusted proxy), as most are. */
    private final ClientAddress client = ClientAddress.of(new EmbeddedChannel() {
        @Override
        protected SocketAddress remoteAddress0() {
            return new InetSocketAddress("203.0.113.7", 50123); // a literal: no lookup
        }
    });
    private final HttpHeaders response = new DefaultHttpHeaders()
            .add("date", "Mon, 23 Nov 2026 20:00:00 GMT")
            .add("server", "uvicorn")
            .add("content-type", "text/event-stream; charset=utf-8")
            .add("transfer-encoding", "chunked");

    @Benchmark
    public HttpHeaders copyOnly() {
        return new DefaultHttpHeaders().add(request);
    }

    @Benchmark
    public HttpHeaders requestToUpstream() {
        HttpHeaders h = new DefaultHttpHeaders().add(request);
        Headers.toUpstream(h, client, "https");
        return h;
    }

    @Benchmark
    public HttpHeaders responseToClient() {
        HttpHeaders h = new DefaultHttpHeaders().add(response);
        Headers.toClient(h);
        return h;
    }
}
