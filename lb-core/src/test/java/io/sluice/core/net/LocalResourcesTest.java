package io.sluice.core.net;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelException;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** The shapes Netty's transports give a failure for want of a descriptor, against a backend's refusal. */
class LocalResourcesTest {

    @Test
    void outOfDescriptorsIsLocal() {
        assertTrue(LocalResources.exhausted(new ChannelException("Unable to create Channel from class class "
                + "io.netty.channel.uring.IoUringSocketChannel", new IOException("newSocketStream(..) failed: Too many open files"))));
        assertTrue(LocalResources.exhausted(new IOException("accept(..) failed: Too many open files")));
        assertTrue(LocalResources.exhausted(new RuntimeException(new IOException("socket: ENFILE"))));
    }

    @Test
    void aBackendsRefusalIsNot() {
        assertFalse(LocalResources.exhausted(new ConnectException("connect(..) failed: Connection refused")));
        assertFalse(LocalResources.exhausted(new ChannelException("connection reset")));
        assertFalse(LocalResources.exhausted(null));
    }
}
