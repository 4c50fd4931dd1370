package io.sluice.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

class TransportSelectTest {
    @Test
    void autoPrefersEpollThenNioAndTakesIoUringOnlyWhenAsked() {
        Transport expected = Epoll.isAvailable() ? Transport.EPOLL : Transport.NIO;
        assertEquals(expected, Transport.select("auto"));
        assertEquals(expected, Transport.select(null));
    }

    @Test
    void explicitChoicesAreKept() {
        assertEquals(Transport.NIO, Transport.select("nio"));
        assertEquals(IoUring.isAvailable() ? Transport.IO_URING : Transport.select("auto"), Transport.select("io_uring"));
        assertEquals(Epoll.isAvailable() ? Transport.EPOLL : Transport.NIO, Transport.select("epoll"));
        assertThrows(IllegalArgumentException.class, () -> Transport.select("kqueue"));
    }
}
