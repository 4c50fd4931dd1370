package io.sluice.http.pool;

import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DefaultDnsCache;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.RoundRobinDnsAddressResolverGroup;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import io.sluice.core.config.DnsConfig;
import io.sluice.core.net.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Upstream host names resolved the way the rest of the proxy works: asynchronously, on the event
 * loop that connects, never blocking it (as {@code new InetSocketAddress(host, port)} does).
 *
 * <p>One resolver group per gateway, on the workers' own datagram channel type. Answers are cached
 * for their TTL (one cache shared by the loops), so a backend named by a host name follows its DNS
 * records: every new connection resolves through the cache, and after the TTL a fresh lookup. A
 * failed lookup is not cached ({@code negativeTtl} 0): the next connect asks again. With several
 * A records, connections are spread over them at random. IP literals are never looked up.
 */
public final class UpstreamResolver {
    private UpstreamResolver() {
    }

    public static AddressResolverGroup<InetSocketAddress> create(Transport transport, DnsConfig config) {
        return new RoundRobinDnsAddressResolverGroup(builder(transport, config)
                .resolveCache(new DefaultDnsCache(0, Integer.MAX_VALUE, 0)));
    }

    /** Channel types, name servers and query timeout of {@code server.dns}; shared with DNS discovery. */
    public static DnsNameResolverBuilder builder(Transport transport, DnsConfig config) {
        return new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannel())
                .socketChannelType(transport.clientChannel()) // TCP for truncated answers
                .queryTimeoutMillis(config.queryTimeout().toMillis())
                .nameServerProvider(config.servers().isEmpty()
                        ? DnsServerAddressStreamProviders.platformDefault() // /etc/resolv.conf
                        : new SequentialDnsServerAddressStreamProvider(config.servers()));
    }

    /** What to connect to: an IP literal as it is, a name unresolved so the bootstrap's resolver looks it up. */
    public static InetSocketAddress address(String host, int port) {
        InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
        return literal != null ? new InetSocketAddress(literal, port) : InetSocketAddress.createUnresolved(host, port);
    }
}
