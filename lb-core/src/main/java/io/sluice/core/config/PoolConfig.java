package io.sluice.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A set of interchangeable upstream backends that routes send requests to.
 *
 * @param responseTimeout   time until the upstream response head; long, because a prefill can take minutes
 * @param maxIdlePerBackend idle keep-alive upstream connections kept per backend per event loop
 * @param streamIdleTimeout longest silence between two parts of a response once it has started
 * @param requestTimeout    the whole exchange, first byte to last; zero for none
 * @param maxInFlightPerBackend requests one backend may have in flight; zero for no limit
 * @param queueSize         requests that may wait for a free backend when all are at their limit
 * @param queueTimeout      how long such a request waits before a 503 with Retry-After
 * @param models            the model names this pool serves, for routes with {@code by-model}; empty when not declared
 * @param headers           header rules for requests to this pool's backends and their responses; never null
 * @param tls               how the pool's {@code https://} backends are verified; applies to new connections
 * @param hostHeader        the {@code Host} sent upstream: {@link #HOST_PASS} (the client's),
 *                          {@link #HOST_BACKEND} (the backend's url authority) or a literal value
 * @param routing           the LLM-aware policies' settings ({@code routing:}); never null
 * @param queue             priority classes, fair sharing and spill of the wait queue; {@link QueueConfig#NONE} for a FIFO line
 * @param websocket         limits of the WebSocket tunnels to this pool ({@code websocket:}); never null
 */
public record PoolConfig(String name, String balancer, Duration connectTimeout, Duration responseTimeout,
                         int maxIdlePerBackend, HealthConfig health, List<BackendConfig> backends,
                         Duration streamIdleTimeout, Duration requestTimeout, RetryConfig retry,
                         OutlierConfig outlier, int maxInFlightPerBackend, int queueSize, Duration queueTimeout,
                         List<String> models, HeaderRules headers, UpstreamTlsConfig tls, String hostHeader,
                         RoutingConfig routing, QueueConfig queue, WebSocketConfig websocket) {
    public static final String HOST_PASS = "pass";
    public static final String HOST_BACKEND = "backend";

    /** Without declared models, header rules or upstream TLS settings. */
    public PoolConfig(String name, String balancer, Duration connectTimeout, Duration responseTimeout,
                      int maxIdlePerBackend, HealthConfig health, List<BackendConfig> backends,
                      Duration streamIdleTimeout, Duration requestTimeout, RetryConfig retry,
                      OutlierConfig outlier, int maxInFlightPerBackend, int queueSize, Duration queueTimeout) {
        this(name, balancer, connectTimeout, responseTimeout, maxIdlePerBackend, health, backends, streamIdleTimeout,
                requestTimeout, retry, outlier, maxInFlightPerBackend, queueSize, queueTimeout, List.of(), HeaderRules.NONE,
                UpstreamTlsConfig.DEFAULT, HOST_PASS);
    }

    /** With the default routing settings and a plain FIFO wait queue. */
    public PoolConfig(String name, String balancer, Duration connectTimeout, Duration responseTimeout,
                      int maxIdlePerBackend, HealthConfig health, List<BackendConfig> backends,
                      Duration streamIdleTimeout, Duration requestTimeout, RetryConfig retry,
                      OutlierConfig outlier, int maxInFlightPerBackend, int queueSize, Duration queueTimeout,
                      List<String> models, HeaderRules headers, UpstreamTlsConfig tls, String hostHeader) {
        this(name, balancer, connectTimeout, responseTimeout, maxIdlePerBackend, health, backends, streamIdleTimeout,
                requestTimeout, retry, outlier, maxInFlightPerBackend, queueSize, queueTimeout, models, headers, tls,
                hostHeader, RoutingConfig.DEFAULT, QueueConfig.NONE, WebSocketConfig.DEFAULT);
    }

    /** With the default WebSocket limits. */
    public PoolConfig(String name, String balancer, Duration connectTimeout, Duration responseTimeout,
                      int maxIdlePerBackend, HealthConfig health, List<BackendConfig> backends,
                      Duration streamIdleTimeout, Duration requestTimeout, RetryConfig retry,
                      OutlierConfig outlier, int maxInFlightPerBackend, int queueSize, Duration queueTimeout,
                      List<String> models, HeaderRules headers, UpstreamTlsConfig tls, String hostHeader,
                      RoutingConfig routing, QueueConfig queue) {
        this(name, balancer, connectTimeout, responseTimeout, maxIdlePerBackend, health, backends, streamIdleTimeout,
                requestTimeout, retry, outlier, maxInFlightPerBackend, queueSize, queueTimeout, models, headers, tls,
                hostHeader, routing, queue, WebSocketConfig.DEFAULT);
    }

    /** The core settings, everything else at its default. */
    public PoolConfig(String name, String balancer, Duration connectTimeout, Duration responseTimeout,
                      int maxIdlePerBackend, HealthConfig health, List<BackendConfig> backends) {
        this(name, balancer, connectTimeout, responseTimeout, maxIdlePerBackend, health, backends,
                Duration.ofSeconds(120), Duration.ofMinutes(30), RetryConfig.DEFAULT, OutlierConfig.DEFAULT,
                0, 0, Duration.ofSeconds(30));
    }

    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(balancer, "balancer");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(responseTimeout, "responseTimeout");
        Objects.requireNonNull(health, "health");
        backends = List.copyOf(backends);
        models = models == null ? List.of() : List.copyOf(models);
        headers = headers == null ? HeaderRules.NONE : headers;
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(hostHeader, "hostHeader");
        routing = routing == null ? RoutingConfig.DEFAULT : routing;
        queue = queue == null ? QueueConfig.NONE : queue;
        websocket = websocket == null ? WebSocketConfig.DEFAULT : websocket;
    }

    /** The same settings with other backends: a reload compares settings without the membership. */
    public PoolConfig withBackends(List<BackendConfig> other) {
        return new PoolConfig(name, balancer, connectTimeout, responseTimeout, maxIdlePerBackend, health, other,
                streamIdleTimeout, requestTimeout, retry, outlier, maxInFlightPerBackend, queueSize, queueTimeout,
                models, headers, tls, hostHeader, routing, queue, websocket);
    }
}
