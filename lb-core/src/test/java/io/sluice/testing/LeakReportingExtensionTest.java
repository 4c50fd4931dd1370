package io.sluice.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The leak check must be able to fail: leak a buffer on purpose and see it reported. */
class LeakReportingExtensionTest {

    @Test
    void aDroppedBufferIsReported() throws Exception {
        assertTrue(ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID,
                "tests must run with -Dio.netty.leakDetection.level=paranoid");
        leakOne();
        for (int round = 0; round < 20 && LeakReportingExtension.leaks().isEmpty(); round++) {
            System.gc();
            Thread.sleep(20);
            PooledByteBufAllocator.DEFAULT.directBuffer(8).release();
        }
        assertFalse(LeakReportingExtension.leaks().isEmpty(), "a dropped buffer was not reported");
        LeakReportingExtension.leaks().clear(); // this leak was deliberate
    }

    private static void leakOne() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(32);
        leaked.writeInt(42);
    }
}
