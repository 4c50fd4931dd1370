package io.sluice.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny authoritative DNS server on loopback UDP for tests: A and AAAA records (one or several per
 * name) with a TTL, set and changed by the test; a name can be made to answer SERVFAIL, the whole server
 * to answer nothing (as if it had stopped); unknown names get NXDOMAIN, a family without records an empty answer.
 */
final class TestDnsServer implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final Map<String, List<InetAddress>> records = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> queries = new ConcurrentHashMap<>();
    private volatile boolean silent;
    private final Map<String, Boolean> failing = new ConcurrentHashMap<>();
    private final AtomicInteger aQueries = new AtomicInteger();
    private volatile int ttlSeconds = 1;

    TestDnsServer() throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new SimpleChannelInboundHandler<DatagramDnsQuery>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery q) {
                                        DatagramDnsResponse r = answer(q);
                                        if (silent) {
                                            r.release();
                                        } else {
                                            ctx.writeAndFlush(r);
                                        }
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    private DatagramDnsResponse answer(DatagramDnsQuery q) {
        DnsQuestion question = q.recordAt(DnsSection.QUESTION);
        DatagramDnsResponse r = new DatagramDnsResponse(q.recipient(), q.sender(), q.id());
        r.setRecursionAvailable(true);
        r.setAuthoritativeAnswer(true);
        r.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(question.name(), question.type()));
        String name = question.name().endsWith(".") ? question.name().substring(0, question.name().length() - 1) : question.name();
        List<InetAddress> ips = records.get(name);
        if (question.type() == DnsRecordType.A) {
            aQueries.incrementAndGet();
        }
        queries.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        if (failing.containsKey(name)) {
            r.setCode(DnsResponseCode.SERVFAIL);
        } else if (ips == null) {
            r.setCode(DnsResponseCode.NXDOMAIN);
        } else {
            for (InetAddress ip : ips) {
                DnsRecordType type = ip instanceof Inet6Address ? DnsRecordType.AAAA : DnsRecordType.A;
                if (type == question.type()) {
                    r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), type, ttlSeconds,
                            Unpooled.wrappedBuffer(ip.getAddress())));
                }
            }
        } // a family without records, and other types: NOERROR with no answer
        return r;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** "127.0.0.1:PORT", for {@code server.dns.servers}. */
    String hostAndPort() {
        return "127.0.0.1:" + address().getPort();
    }

    /** The name's addresses (IP literals, v4 or v6), replacing what it had. */
    void set(String name, String... ips) throws Exception {
        List<InetAddress> list = new java.util.ArrayList<>();
        for (String ip : ips) {
            list.add(InetAddress.getByName(ip)); // a literal: no lookup
        }
        records.put(name, List.copyOf(list));
    }

    /** The name no longer exists: NXDOMAIN. */
    void remove(String name) {
        records.remove(name);
    }

    /** The TTL of every answer from now on. */
    void ttl(int seconds) {
        ttlSeconds = seconds;
    }

    /** Queries are read (and counted) but never answered: a server that stopped, seen from the client. */
    void silent(boolean on) {
        silent = on;
    }

    /** Queries for this name, of any type, answered or not. */
    int queries(String name) {
        AtomicInteger n = queries.get(name);
        return n == null ? 0 : n.get();
    }

    void failing(String name, boolean fail) {
        if (fail) {
            failing.put(name, true);
        } else {
            failing.remove(name);
        }
    }

    int aQueries() {
        return aQueries.get();
    }

    /** Stops the server (a test may, to see a DNS outage); the extension's second close does nothing. */
    @Override
    public void close() {
        if (group.isShuttingDown()) {
            return;
        }
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
    }
}
