package io.sluice.core.net;

import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket transport: native io_uring or epoll where the kernel allows it, NIO otherwise.
 *
 * <p>{@code auto} prefers epoll, then NIO. io_uring is taken only when asked for: it costs about a
 * third less kernel time per proxied request (docs/BENCHMARKS.md), but Netty 4.2.18's io_uring channel
 * loses a backend's reset (RST) that arrives right behind its last bytes: the channel never becomes
 * inactive, and the client's stream hangs until its idle timeout instead of ending with an error.
 * Seen on the first upstream connection of a process in 4 of 5 runs on kernel 6.18 (never with epoll);
 * {@code MidStreamResetTest} is the check. Where epoll is refused, {@code auto} takes NIO.
 */
public enum Transport {
    IO_URING, EPOLL, NIO;

    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /** Resolves a configured name ({@code auto}, {@code io_uring}, {@code epoll}, {@code nio}) to one that works here. */
    public static Transport select(String wanted) {
        String w = wanted == null ? "auto" : wanted.toLowerCase(Locale.ROOT).replace('-', '_');
        switch (w) {
            case "io_uring":
                if (IoUring.isAvailable()) {
                    return IO_URING;
                }
                log.warn("io_uring unavailable ({}); falling back", IoUring.unavailabilityCause().toString());
                return select("auto");
            case "epoll":
                if (Epoll.isAvailable()) {
                    return EPOLL;
                }
                log.warn("epoll unavailable ({}); falling back to NIO", Epoll.unavailabilityCause().toString());
                return NIO;
            case "nio":
                return NIO;
            case "auto":
                return Epoll.isAvailable() ? EPOLL : NIO;
            default:
                throw new IllegalArgumentException("unknown transport '" + wanted + "' (auto, io_uring, epoll, nio)");
        }
    }

    public EventLoopGroup newGroup(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandlerFactory());
    }

    private IoHandlerFactory ioHandlerFactory() {
        switch (this) {
            case IO_URING: return IoUringIoHandler.newFactory();
            case EPOLL: return EpollIoHandler.newFactory();
            default: return NioIoHandler.newFactory();
        }
    }

    public Class<? extends ServerSocketChannel> serverChannel() {
        switch (this) {
            case IO_URING: return IoUringServerSocketChannel.class;
            case EPOLL: return EpollServerSocketChannel.class;
            default: return NioServerSocketChannel.class;
        }
    }

    /**
     * {@code SO_REUSEPORT} where the transport has it, else null (NIO): with one listening socket per
     * event loop, a connection is accepted by the loop that then serves it, with no hand-off between
     * threads.
     */
    public ChannelOption<Boolean> reusePort() {
        return this == NIO ? null : UnixChannelOption.SO_REUSEPORT;
    }

    /** UDP sockets of the same transport: the DNS resolver's, on the same event loops. */
    public Class<? extends DatagramChannel> datagramChannel() {
        switch (this) {
            case IO_URING: return IoUringDatagramChannel.class;
            case EPOLL: return EpollDatagramChannel.class;
            default: return NioDatagramChannel.class;
        }
    }

    public Class<? extends SocketChannel> clientChannel() {
        switch (this) {
            case IO_URING: return IoUringSocketChannel.class;
            case EPOLL: return EpollSocketChannel.class;
            default: return NioSocketChannel.class;
        }
    }
}
