package io.sluice.core.net;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Who the client of a request is, worked out once, in one place, for everything that needs it: the
 * forwarding headers, per-IP rate limits, the access log and metrics.
 *
 * <p>Sluice is the edge: a client's own {@code X-Forwarded-For} is believed only when the socket peer
 * is one of the listener's {@code trusted-proxies}. Then the client is the rightmost address of the
 * chain that is not itself a trusted proxy (each proxy appends the peer it saw, so everything left
 * of the first untrusted hop may be forged); an unusable chain falls back to the peer.
 *
 * <p>One per channel (an HTTP/1.1 connection or an HTTP/2 stream), kept by its exchange handler (not
 * as a channel attribute, so a dormant connection, whose handlers are gone, does not keep it: about
 * 200 bytes per idle connection); the peer's part is computed once (per reload of the listener), the
 * client part per request, and only when the peer is trusted.
 */
public final class ClientAddress {
    private final String peer;
    private final boolean peerTrusted;
    private final List<Cidr> trusted;
    private final String peerLimitKey;
    private String client;
    private String limitKey;

    private ClientAddress(String peer, byte[] peerBytes, List<Cidr> trusted) {
        this.peer = peer;
        this.trusted = trusted;
        this.peerTrusted = peerBytes != null && Cidr.anyContains(trusted, peerBytes);
        this.peerLimitKey = peerBytes == null ? peer : limitKey(peerBytes);
        this.client = peer;
        this.limitKey = peerLimitKey;
    }

    /** The client address of a channel's requests, with the listener's trusted proxies. */
    public static ClientAddress of(Channel ch, List<Cidr> trustedProxies) {
        SocketAddress a = ch.remoteAddress();
        if (a == null && ch.parent() != null) {
            a = ch.parent().remoteAddress(); // an HTTP/2 stream: its connection's peer
        }
        byte[] bytes = a instanceof InetSocketAddress i && i.getAddress() != null
                ? Cidr.normalize(i.getAddress().getAddress()) : null;
        return new ClientAddress(bytes == null ? String.valueOf(a) : NetUtil.bytesToIpAddress(bytes), bytes, trustedProxies);
    }

    /** A channel's client address when no proxy is trusted. */
    public static ClientAddress of(Channel ch) {
        return of(ch, List.of());
    }

    /** Whether this was worked out with these trusted proxies (a reload gives the listener a new list). */
    public boolean madeWith(List<Cidr> trustedProxies) {
        return trusted == trustedProxies;
    }

    /** Works out the client of a new request on this channel; @return its address as text */
    public String forRequest(HttpHeaders h) {
        if (!peerTrusted) {
            return peer;
        }
        client = peer;
        limitKey = peerLimitKey;
        List<String> values = h.getAll("x-forwarded-for");
        // Right to left over every hop of every X-Forwarded-For line.
        for (int v = values.size() - 1; v >= 0; v--) {
            String line = values.get(v);
            int end = line.length();
            while (end >= 0) {
                int comma = line.lastIndexOf(',', end - 1);
                byte[] hop = Cidr.address(line.substring(comma + 1, end));
                if (hop == null) {
                    return client; // garbage: nothing left of it can be placed; keep the peer
                }
                if (!Cidr.anyContains(trusted, hop)) {
                    client = NetUtil.bytesToIpAddress(hop);
                    limitKey = limitKey(hop);
                    return client;
                }
                end = comma;
            }
        }
        return client;
    }

    /** The socket peer (a proxy, when trusted), as text. */
    public String peer() {
        return peer;
    }

    public boolean peerTrusted() {
        return peerTrusted;
    }

    /** The current request's client, as text: the full address. */
    public String client() {
        return client;
    }

    /** The current request's per-IP rate-limit key: see {@link #limitKey(byte[])}. */
    public String limitKey() {
        return limitKey;
    }

    /**
     * The per-IP rate-limit key of an address (bytes as {@link Cidr#normalize} leaves them, so an
     * IPv4-mapped address is IPv4): an IPv4 address is itself, an IPv6 address its /64. One IPv6
     * subscriber usually holds a whole /64, so per address a client could take a fresh bucket with
     * every request.
     */
    public static String limitKey(byte[] address) {
        if (address.length != 16) {
            return NetUtil.bytesToIpAddress(address);
        }
        return NetUtil.bytesToIpAddress(Arrays.copyOf(Arrays.copyOf(address, 8), 16)) + "/64";
    }
}
