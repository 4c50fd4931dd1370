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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny authoritative DNS server on loopback UDP for tests: A records with a TTL, set and changed
 * by the test; a name can be made to answer SERVFAIL; unknown names get NXDOMAIN, AAAA an empty answer.
 */
final class TestDnsServer implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final Map<String, InetAddress> records = new ConcurrentHashMap<>();
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
                                        ctx.writeAndFlush(answer(q));
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
        InetAddress ip = records.get(name);
        if (question.type() == DnsRecordType.A) {
            aQueries.incrementAndGet();
        }
        if (failing.containsKey(name)) {
            r.setCode(DnsResponseCode.SERVFAIL);
        } else if (ip == null) {
            r.setCode(DnsResponseCode.NXDOMAIN);
        } else if (question.type() == DnsRecordType.A) {
            r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), DnsRecordType.A, ttlSeconds,
                    Unpooled.wrappedBuffer(ip.getAddress())));
        } // AAAA and others: NOERROR with no answer
        return r;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** "127.0.0.1:PORT", for {@code server.dns.servers}. */
    String hostAndPort() {
        return "127.0.0.1:" + address().getPort();
    }

    void set(String name, String ip) throws Exception {
        records.put(name, InetAddress.getByName(ip)); // a literal: no lookup
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

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
    }
}
