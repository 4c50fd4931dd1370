package io.sluice.core.config;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How upstream host names are looked up ({@code server.dns}). Lookups are asynchronous, on the
 * event loops, and cached for each record's TTL, so a backend named by host name follows its DNS.
 *
 * @param servers      name servers to ask, in order; empty: those of /etc/resolv.conf
 * @param queryTimeout how long one query may take before the next server (or a failed connect)
 */
public record DnsConfig(List<InetSocketAddress> servers, Duration queryTimeout) {
    public static final DnsConfig DEFAULT = new DnsConfig(List.of(), Duration.ofSeconds(2));

    public DnsConfig {
        servers = List.copyOf(servers);
        Objects.requireNonNull(queryTimeout, "queryTimeout");
    }
}
