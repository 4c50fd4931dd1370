package io.sluice.http.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.sluice.core.config.AccessLogConfig;
import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caddy's {@code log} directive: one JSON line per finished request, to stdout or a file.
 *
 * <p>The event loop only offers the finished {@link Exchange} to a bounded queue; formatting and
 * writing happen on one writer thread. When the queue is full (a stalled disk) lines are dropped and
 * counted rather than stalling the proxy; the count is logged and written as a line of its own.
 */
public final class AccessLog implements ExchangeObserver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final JsonFactory JSON = new JsonFactory();

    private final BlockingQueue<Exchange> queue;
    private final OutputStream out;
    private final boolean closeOut;
    private final Thread writer;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private volatile boolean closed;

    private AccessLog(int capacity, OutputStream out, boolean closeOut) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.out = out;
        this.closeOut = closeOut;
        this.writer = new Thread(this::run, "sluice-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    public static AccessLog open(AccessLogConfig config) throws IOException {
        if (config.stdout()) {
            return new AccessLog(config.queueSize(), new PrintStream(new FileOutputStream(java.io.FileDescriptor.out), false), false);
        }
        return new AccessLog(config.queueSize(), new BufferedOutputStream(new FileOutputStream(config.output(), true), 64 * 1024), true);
    }

    /** To any stream (tests; embedding); {@code out} is not closed. */
    public static AccessLog to(OutputStream out, int queueSize) {
        return new AccessLog(queueSize, out, false);
    }

    /** Never blocks: a full queue drops the line. */
    @Override
    public void onExchangeEnd(Exchange exchange) {
        if (!queue.offer(exchange)) {
            dropped.incrementAndGet();
        }
    }

    public long dropped() {
        return dropped.get();
    }

    public long written() {
        return written.get();
    }

    private void run() {
        List<Exchange> batch = new ArrayList<>(256);
        long reportedDrops = 0;
        try {
            while (!closed || !queue.isEmpty()) {
                Exchange first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, 255);
                    for (Exchange ex : batch) {
                        out.write(line(ex));
                    }
                    written.addAndGet(batch.size());
                    batch.clear();
                }
                long d = dropped.get();
                if (d != reportedDrops) {
                    out.write(("{\"msg\":\"access log lines dropped\",\"dropped_total\":" + d + "}\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    log.warn("access log: {} lines dropped so far (writer behind)", d);
                    reportedDrops = d;
                }
                if (queue.isEmpty()) {
                    out.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.error("access log: write failed, logging stops: {}", e.toString());
        }
    }

    static byte[] line(Exchange ex) throws IOException {
        StringWriter sw = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(sw)) {
            g.writeStartObject();
            g.writeStringField("ts", Instant.ofEpochMilli(ex.startMillis).toString());
            g.writeStringField("client_ip", ex.clientIp);
            g.writeStringField("listener", ex.listener);
            g.writeStringField("proto", ex.protocol);
            g.writeStringField("method", ex.method);
            g.writeStringField("path", ex.path);
            g.writeNumberField("status", ex.status);
            g.writeNumberField("bytes_in", ex.bytesIn);
            g.writeNumberField("bytes_out", ex.bytesOut);
            g.writeStringField("pool", ex.pool);
            if (ex.provider != null) {
                g.writeStringField("provider", ex.provider);
            }
            if (ex.apiKeyId != null) {
                g.writeStringField("key", ex.apiKeyId);
            }
            if (ex.promptTokens >= 0) {
                g.writeNumberField("prompt_tokens", ex.promptTokens);
            }
            if (ex.completionTokens >= 0) {
                g.writeNumberField("completion_tokens", ex.completionTokens);
            }
            if (ex.model != null) {
                g.writeStringField("model", ex.model);
            }
            g.writeStringField("upstream", ex.backend);
            if (ex.routeReason != null) {
                g.writeStringField("route", ex.routeReason);
            }
            g.writeNumberField("duration_ms", ex.durationMicros() / 1000.0);
            if (ex.ttfbMicros() >= 0) {
                g.writeNumberField("ttfb_ms", ex.ttfbMicros() / 1000.0);
            }
            g.writeStringField("request_id", ex.requestId);
            g.writeStringField("outcome", ex.outcome == null ? null : ex.outcome.name().toLowerCase(java.util.Locale.ROOT));
            if (ex.gatewayError != null) {
                g.writeStringField("error", ex.gatewayError);
            }
            g.writeEndObject();
        }
        sw.write('\n');
        return sw.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Writes what is queued, then stops. */
    @Override
    public void close() {
        closed = true;
        try {
            writer.join(5000);
            out.flush();
            if (closeOut) {
                out.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.warn("access log: close failed: {}", e.toString());
        }
    }
}
