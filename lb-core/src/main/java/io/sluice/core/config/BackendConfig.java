package io.sluice.core.config;

import java.util.Objects;

/**
 * One upstream server of a pool: a real one ({@code url:}) or an in-process simulator ({@code simulator:}).
 *
 * @param name      a stable id for logs, metrics and the admin API
 * @param host      for a simulator {@code 127.0.0.1}
 * @param port      for a simulator its configured port, 0 until it is started on an ephemeral port
 * @param simulator null for a real backend
 * @param tls       an {@code https://} url: spoken to over TLS with the pool's {@link UpstreamTlsConfig}
 */
public record BackendConfig(String name, String host, int port, int weight, SimulatorConfig simulator, boolean tls) {
    /** A plain-HTTP backend or a simulator. */
    public BackendConfig(String name, String host, int port, int weight, SimulatorConfig simulator) {
        this(name, host, port, weight, simulator, false);
    }

    public BackendConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
    }

    public boolean isSimulated() {
        return simulator != null;
    }

    /** {@code host:port}, with IPv6 hosts bracketed. */
    public String address() {
        return address(host, port);
    }

    static String address(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
