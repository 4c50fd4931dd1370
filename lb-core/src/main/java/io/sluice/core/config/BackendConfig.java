package io.sluice.core.config;

import java.util.Objects;

/**
 * One upstream server of a pool: a real one ({@code url:}), an in-process simulator ({@code simulator:}),
 * or a DNS name that stands for as many servers as it has addresses ({@code dns:}).
 *
 * @param name      a stable id for logs, metrics and the admin API
 * @param host      for a simulator {@code 127.0.0.1}
 * @param port      for a simulator its configured port, 0 until it is started on an ephemeral port
 * @param simulator null for a real backend
 * @param tls       an {@code https://} url: spoken to over TLS with the pool's {@link UpstreamTlsConfig}
 * @param dns       for a {@code dns:} entry how it is re-resolved, else null; {@code host} is then the name to look up,
 *                  and the running gateway has one backend per address, named {@code name@address}
 */
public record BackendConfig(String name, String host, int port, int weight, SimulatorConfig simulator, boolean tls,
                            DnsDiscoveryConfig dns) {
    /** A {@code url:} backend or a simulator. */
    public BackendConfig(String name, String host, int port, int weight, SimulatorConfig simulator, boolean tls) {
        this(name, host, port, weight, simulator, tls, null);
    }

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

    /** A {@code dns:} entry: not a backend itself, the source of the discovered ones. */
    public boolean isDiscovered() {
        return dns != null;
    }

    /** {@code host:port}, with IPv6 hosts bracketed. */
    public String address() {
        return address(host, port);
    }

    public static String address(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
