package io.sluice.http.ratelimit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.sluice.core.config.AccessConfig;
import io.sluice.core.observe.LogThrottle;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token buckets in Redis, one hash per client, changed atomically by one Lua script (EVALSHA; EVAL
 * when a restarted Redis lost its script cache). The bucket refills by Redis's own clock, so the
 * replicas' clocks do not matter, and expires once it would be full again. Keys are a hash of the
 * listener and the client (API key name or address): no key or address is stored in clear.
 *
 * <p>Never blocks: commands are asynchronous, time out after {@code timeout}, and are refused at once
 * while the connection is down (Lettuce reconnects in the background), so callers fall back quickly.
 * Going down and coming back are logged once each, not per request.
 */
final class RedisBuckets implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisBuckets.class);

    /** ARGV: requests per minute, tokens per minute, tokens to spend (-1: admit one request). */
    static final String SCRIPT = """
            local rpm = tonumber(ARGV[1])
            local tpm = tonumber(ARGV[2])
            local spend = tonumber(ARGV[3])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local s = redis.call('HMGET', KEYS[1], 'r', 't', 'at')
            local r = tonumber(s[1]) or rpm
            local k = tonumber(s[2]) or tpm
            local at = tonumber(s[3]) or now
            local minutes = math.max(0, now - at) / 60000
            r = math.min(rpm, r + minutes * rpm)
            k = math.min(tpm, k + minutes * tpm)
            local allowed = 1
            if spend < 0 then
              if (rpm > 0 and r < 1) or (tpm > 0 and k <= 0) then
                allowed = 0
              elseif rpm > 0 then
                r = r - 1
              end
            else
              k = k - spend
              if k <= 0 then allowed = 0 end
            end
            local full = 0
            if rpm > 0 then full = math.max(full, (rpm - r) / rpm) end
            if tpm > 0 then full = math.max(full, (tpm - k) / tpm) end
            redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(k), 'at', tostring(now))
            redis.call('PEXPIRE', KEYS[1], math.ceil(full * 60000) + 1000)
            return {allowed, tostring(r), tostring(k)}
            """;
    private static final String SHA = sha1(SCRIPT);
    private static final Duration RETRY_CONNECT = Duration.ofSeconds(1);

    /** What the script answered: whether the check passed, and the bucket after it. */
    record Reply(boolean allowed, double requests, double tokens) {
    }

    private enum State { UNKNOWN, UP, DOWN }

    private final AccessConfig.LimitStore config;
    private final RedisClient client;
    private final ClientResources resources;
    private final RedisURI uri;
    private final LogThrottle throttle = new LogThrottle(Duration.ofSeconds(30), 4);
    private volatile StatefulRedisConnection<String, String> connection;
    /** The first connection being made: checks meanwhile wait for it (up to the timeout) rather than fail at once. */
    private volatile CompletableFuture<StatefulRedisConnection<String, String>> connecting;
    private volatile State state = State.UNKNOWN;
    private volatile boolean closed;

    RedisBuckets(AccessConfig.LimitStore config, ClientResources resources) {
        this.config = config;
        this.resources = resources;
        this.uri = RedisURI.create(config.redisUrl());
        uri.setTimeout(config.timeout());
        this.client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // While disconnected a check fails at once (and falls back) rather than queueing.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.timeout()))
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).keepAlive(true).build())
                .build());
        connect();
    }

    AccessConfig.LimitStore config() {
        return config;
    }

    /** Whether the last command reached Redis (for tests and status). */
    boolean up() {
        return state == State.UP;
    }

    /** Whether the connection is open now: after a drop Lettuce reopens it in the background, store by store. */
    boolean connected() {
        StatefulRedisConnection<String, String> c = connection;
        return !closed && c != null && c.isOpen();
    }

    /** The first connection; Lettuce itself re-establishes it after a drop, but not a first one that failed. */
    private void connect() {
        if (closed) {
            return;
        }
        CompletableFuture<StatefulRedisConnection<String, String>> attempt = client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
        connecting = attempt;
        attempt.whenComplete((c, failure) -> {
            if (failure != null) {
                markDown(failure);
                if (!closed) {
                    resources.eventExecutorGroup().schedule(this::connect, RETRY_CONNECT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } else if (closed) {
                c.closeAsync();
            } else {
                connection = c;
                markUp();
            }
        });
    }

    /** The Redis key of a client's bucket: a hash, so neither API key names nor addresses are stored. */
    String key(String scope, String client) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(scope.getBytes(StandardCharsets.UTF_8));
            d.update((byte) '\n');
            byte[] h = d.digest(client.getBytes(StandardCharsets.UTF_8));
            return config.keyPrefix() + "rl:" + HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs the bucket script. The future completes on a Lettuce thread, exceptionally when Redis could
     * not answer in time.
     *
     * @param spend tokens to charge, or -1 to admit one request
     */
    CompletableFuture<Reply> run(String key, long requestsPerMinute, long tokensPerMinute, long spend) {
        StatefulRedisConnection<String, String> c = connection;
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("store closed (the config no longer names it)"));
        }
        CompletableFuture<StatefulRedisConnection<String, String>> attempt = connecting;
        if (c == null && attempt != null && !attempt.isDone()) {
            return afterConnect(attempt, key, requestsPerMinute, tokensPerMinute, spend);
        }
        if (c == null) {
            IllegalStateException e = new IllegalStateException("not connected");
            markDown(e);
            return CompletableFuture.failedFuture(e);
        }
        return runOn(c, key, requestsPerMinute, tokensPerMinute, spend);
    }

    private CompletableFuture<Reply> runOn(StatefulRedisConnection<String, String> c, String key, long requestsPerMinute,
                                           long tokensPerMinute, long spend) {
        String[] keys = {key};
        String[] args = {Long.toString(requestsPerMinute), Long.toString(tokensPerMinute), Long.toString(spend)};
        CompletableFuture<List<Object>> f;
        try {
            f = c.async().<List<Object>>evalsha(SHA, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
                    .exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
                            ? c.async().<List<Object>>eval(SCRIPT, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
                            : CompletableFuture.failedFuture(e));
        } catch (RuntimeException e) { // refused before it was sent
            markDown(e);
            return CompletableFuture.failedFuture(e);
        }
        return f.handle((list, failure) -> {
            if (failure != null) {
                if (!closed) {
                    markDown(failure);
                }
                throw failure instanceof CompletionException ce ? ce : new CompletionException(failure);
            }
            markUp();
            return new Reply(((Number) list.get(0)).longValue() == 1, Double.parseDouble((String) list.get(1)),
                    Double.parseDouble((String) list.get(2)));
        });
    }

    /** A check made while the first connection is being set up (just after start or a reload): it waits, within the timeout. */
    private CompletableFuture<Reply> afterConnect(CompletableFuture<StatefulRedisConnection<String, String>> attempt, String key,
                                                  long requestsPerMinute, long tokensPerMinute, long spend) {
        CompletableFuture<Reply> out = new CompletableFuture<>();
        io.netty.util.concurrent.ScheduledFuture<?> timer = resources.eventExecutorGroup().schedule(
                () -> out.completeExceptionally(new java.util.concurrent.TimeoutException("no connection within " + config.timeout())),
                config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        attempt.whenComplete((c, failure) -> {
            if (failure != null) {
                timer.cancel(false);
                out.completeExceptionally(failure);
                return;
            }
            runOn(c, key, requestsPerMinute, tokensPerMinute, spend).whenComplete((reply, e) -> {
                timer.cancel(false);
                if (e != null) {
                    out.completeExceptionally(e);
                } else {
                    out.complete(reply);
                }
            });
        });
        return out;
    }

    private void markDown(Throwable failure) {
        if (state == State.DOWN) {
            return;
        }
        state = State.DOWN;
        long skipped = throttle.admit("down");
        if (skipped >= 0) {
            log.warn("rate-limit store {} unreachable ({}); {} until it answers again{}", config.describe(),
                    describe(failure), config.failOpen() ? "failing open: each replica admits by its own buckets"
                            : "failing closed: limited requests are refused with 503", throttle.summary(skipped));
        }
    }

    private void markUp() {
        State was = state;
        if (was == State.UP) {
            return;
        }
        state = State.UP;
        long skipped = throttle.admit("up");
        if (skipped >= 0) {
            log.info("rate-limit store {} {}; limits are shared{}", config.describe(),
                    was == State.DOWN ? "reachable again" : "connected", throttle.summary(skipped));
        }
    }

    private static String describe(Throwable t) {
        Throwable c = unwrap(t);
        String m = c.getMessage();
        return c.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    @Override
    public void close() {
        closed = true;
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
