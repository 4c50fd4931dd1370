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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 *
 * <p>A file is reopened at its path on {@link #reopen()} (SIGUSR1, after logrotate renamed it) and, with
 * {@code max-size}, rotated by the writer thread itself: {@code file} becomes {@code file.1}, {@code file.1}
 * becomes {@code file.2}, and so on up to {@code max-files}; the oldest is deleted.
 */
public final class AccessLog implements ExchangeObserver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final JsonFactory JSON = new JsonFactory();

    /** Put in the queue by {@link #reopen()} to wake the writer; never written. */
    private static final Exchange REOPEN = new Exchange();

    private final BlockingQueue<Exchange> queue;
    /** The file, or null for a stream that is not ours (stdout, a test's). */
    private final Path file;
    private final long maxSize;
    private final int maxFiles;
    private final Thread writer;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong rotations = new AtomicLong();
    private volatile boolean closed;
    private volatile boolean reopenRequested;
    // The writer thread's (and close()'s once it has stopped):
    private OutputStream out;
    private long size;

    private AccessLog(int capacity, OutputStream out, Path file, long maxSize, int maxFiles) throws IOException {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.file = file;
        this.maxSize = maxSize;
        this.maxFiles = maxFiles;
        this.out = out != null ? out : openFile();
        this.writer = new Thread(this::run, "sluice-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    public static AccessLog open(AccessLogConfig config) throws IOException {
        if (config.stdout()) {
            return new AccessLog(config.queueSize(), new PrintStream(new FileOutputStream(java.io.FileDescriptor.out), false),
                    null, 0, 1);
        }
        return new AccessLog(config.queueSize(), null, Path.of(config.output()), config.maxSize(), config.maxFiles());
    }

    /** To any stream (tests; embedding); {@code out} is not closed. */
    public static AccessLog to(OutputStream out, int queueSize) {
        try {
            return new AccessLog(queueSize, out, null, 0, 1);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // nothing is opened for a stream of the caller's
        }
    }

    /** Never blocks: a full queue drops the line. */
    @Override
    public void onExchangeEnd(Exchange exchange) {
        if (!queue.offer(exchange)) {
            dropped.incrementAndGet();
        }
    }

    /**
     * Closes the file and opens it again at its path, on the writer thread: after an external rotation
     * renamed it, the next lines go to a new file there. Returns at once; nothing for stdout.
     */
    public void reopen() {
        if (file == null) {
            return;
        }
        reopenRequested = true;
        queue.offer(REOPEN); // a full queue wakes the writer anyway
    }

    /** How often the file was rotated for its size. */
    public long rotations() {
        return rotations.get();
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
                    int lines = 0;
                    for (Exchange ex : batch) {
                        if (reopenRequested) {
                            reopenNow();
                        }
                        if (ex == REOPEN) {
                            continue;
                        }
                        write(line(ex));
                        lines++;
                    }
                    written.addAndGet(lines);
                    batch.clear();
                }
                if (reopenRequested) {
                    reopenNow();
                }
                long d = dropped.get();
                if (d != reportedDrops) {
                    write(("{\"msg\":\"access log lines dropped\",\"dropped_total\":" + d + "}\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
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

    private void write(byte[] line) throws IOException {
        if (maxSize > 0 && size > 0 && size + line.length > maxSize) {
            rotate();
        }
        out.write(line);
        size += line.length;
    }

    private OutputStream openFile() throws IOException {
        size = Files.exists(file) ? Files.size(file) : 0;
        return new BufferedOutputStream(new FileOutputStream(file.toFile(), true), 64 * 1024);
    }

    private void reopenNow() throws IOException {
        reopenRequested = false;
        out.close();
        out = openFile();
        log.info("access log: reopened {}", file);
    }

    /** {@code file.(n-1)} to {@code file.n}, ..., {@code file} to {@code file.1}; then a new {@code file}. */
    private void rotate() throws IOException {
        out.close();
        Files.deleteIfExists(numbered(maxFiles));
        for (int i = maxFiles - 1; i >= 1; i--) {
            Path from = numbered(i);
            if (Files.exists(from)) {
                Files.move(from, numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(file, numbered(1), StandardCopyOption.REPLACE_EXISTING);
        out = openFile();
        rotations.incrementAndGet();
    }

    private Path numbered(int n) {
        return file.resolveSibling(file.getFileName() + "." + n);
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
            if (file != null) {
                out.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.warn("access log: close failed: {}", e.toString());
        }
    }
}
