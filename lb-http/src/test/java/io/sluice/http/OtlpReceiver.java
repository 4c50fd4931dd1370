package io.sluice.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OTLP/HTTP metrics receiver on loopback, as a collector is: {@code POST /v1/metrics} with a protobuf
 * {@code ExportMetricsServiceRequest}, decoded with the protocol's own classes. It can be told to fail
 * (a collector that is down behind its load balancer answers 503).
 */
final class OtlpReceiver implements AutoCloseable {
    record Received(Map<String, String> headers, ExportMetricsServiceRequest request) {
    }

    final List<Received> received = new CopyOnWriteArrayList<>();
    final AtomicInteger posts = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    private volatile int failWith;
    private final HttpServer server;

    OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/v1/metrics", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** From now on every export is answered with {@code status} (0: accepted again). */
    void failWith(int status) {
        failWith = status;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex; InputStream in = ex.getRequestBody()) {
            byte[] body = in.readAllBytes();
            posts.incrementAndGet();
            int status = failWith;
            if (status != 0) {
                failed.incrementAndGet();
                ex.sendResponseHeaders(status, -1);
                return;
            }
            if (!"POST".equals(ex.getRequestMethod())
                    || !"application/x-protobuf".equals(ex.getRequestHeaders().getFirst("content-type"))) {
                ex.sendResponseHeaders(415, -1);
                return;
            }
            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k, String.join(",", v)));
            received.add(new Received(headers, ExportMetricsServiceRequest.parseFrom(body)));
            byte[] ok = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
            ex.getResponseHeaders().set("content-type", "application/x-protobuf");
            ex.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
            if (ok.length > 0) {
                ex.getResponseBody().write(ok);
            }
        }
    }

    /** The metric of that name in the latest export that has it (cumulative: it holds the totals), or null. */
    Metric latest(String name) {
        for (int i = received.size() - 1; i >= 0; i--) {
            for (ResourceMetrics rm : received.get(i).request().getResourceMetricsList()) {
                for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                    for (Metric m : sm.getMetricsList()) {
                        if (m.getName().equals(name)) {
                            return m;
                        }
                    }
                }
            }
        }
        return null;
    }

    /** The histogram points of {@link #latest}, empty when there is none yet. */
    List<HistogramDataPoint> points(String name) {
        Metric m = latest(name);
        return m == null ? List.of() : m.getHistogram().getDataPointsList();
    }

    long count(String name) {
        return points(name).stream().mapToLong(HistogramDataPoint::getCount).sum();
    }

    static Map<String, String> attributes(List<KeyValue> kvs) {
        Map<String, String> out = new TreeMap<>();
        for (KeyValue kv : kvs) {
            var v = kv.getValue();
            out.put(kv.getKey(), v.hasIntValue() ? Long.toString(v.getIntValue()) : v.getStringValue());
        }
        return out;
    }

    List<Received> snapshot() {
        return new ArrayList<>(received);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
