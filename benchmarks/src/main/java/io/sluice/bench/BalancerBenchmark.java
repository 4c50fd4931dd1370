package io.sluice.bench;

import io.sluice.core.backend.Backend;
import io.sluice.core.balance.LeastConnections;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.route.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Hot-path pieces in isolation: backend selection under contention (threads leasing and releasing
 * on shared backends, as event loops do) and route matching.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BalancerBenchmark {

    @Param({"2", "16"})
    int backends;

    List<Backend> pool;
    final LeastConnections balancer = new LeastConnections();
    Router router;

    @Setup
    public void setup() {
        pool = new ArrayList<>();
        for (int i = 0; i < backends; i++) {
            pool.add(new Backend("b" + i, "p", "127.0.0.1", 8000 + i, 1));
        }
        router = new Router(List.of(new RouteConfig("/v1/", "vllm", false),
                new RouteConfig("/api/", null, true), new RouteConfig("/", "static", false)));
    }

    @Benchmark
    @Threads(2)
    public boolean chooseLeaseRelease() {
        return balancer.choose(pool).lease().release();
    }

    @Benchmark
    public RouteConfig routeMatch() {
        return router.match("/v1/chat/completions");
    }
}
