package io.sluice.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * The read sizing of client connections: what Netty's {@code AdaptiveRecvByteBufAllocator} does (its
 * size table, four steps up when a read fills the buffer, one step down after two reads that would
 * have fitted a smaller one; 64 bytes to 64 KiB, starting at 2 KiB; up to 16 reads per read event, as
 * Netty sets for stream sockets) with one 40-byte object per connection. Netty's handle, its
 * calculator and its maybe-more supplier are 112 bytes, and every idle connection keeps its handle
 * for its whole life.
 */
final class ReceiveSizes implements RecvByteBufAllocator {
    static final ReceiveSizes INSTANCE = new ReceiveSizes();

    static final int MAX_READS_PER_EVENT = 16;
    private static final int[] SIZES = sizes();
    private static final byte MIN_INDEX = (byte) indexOf(64);
    private static final byte INITIAL_INDEX = (byte) indexOf(2048);
    private static final byte MAX_INDEX = (byte) indexOf(65536);
    private static final int STEP_UP = 4;

    private ReceiveSizes() {
    }

    /** Netty's table: 16 to 496 in steps of 16, then the powers of two from 512. */
    private static int[] sizes() {
        int[] t = new int[31 + 22];
        int n = 0;
        for (int s = 16; s < 512; s += 16) {
            t[n++] = s;
        }
        for (int s = 512; n < t.length; s <<= 1) {
            t[n++] = s;
        }
        return t;
    }

    private static int indexOf(int size) {
        for (int i = 0; i < SIZES.length; i++) {
            if (SIZES[i] == size) {
                return i;
            }
        }
        throw new IllegalArgumentException("not in the size table: " + size);
    }

    @Override
    @SuppressWarnings("deprecation")
    public Handle newHandle() {
        return new Sizing();
    }

    /** One connection's state: the read loop's counts, and the size the next read asks for. */
    static final class Sizing implements RecvByteBufAllocator.ExtendedHandle, UncheckedBooleanSupplier {
        private ChannelConfig config;
        private int reads;
        private int bytesRead;
        private int attempted;
        private int last;
        private byte index = INITIAL_INDEX;
        private boolean shrinkNext;

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return alloc.ioBuffer(guess());
        }

        @Override
        public int guess() {
            return SIZES[index];
        }

        @Override
        public void reset(ChannelConfig config) {
            this.config = config;
            reads = 0;
            bytesRead = 0;
        }

        @Override
        public void incMessagesRead(int n) {
            reads += n;
        }

        @Override
        public void lastBytesRead(int bytes) {
            if (bytes == attempted) {
                record(bytes); // the buffer was filled: grow now, before the next read of this loop
            }
            last = bytes;
            if (bytes > 0) {
                bytesRead += bytes;
            }
        }

        @Override
        public int lastBytesRead() {
            return last;
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            attempted = bytes;
        }

        @Override
        public int attemptedBytesRead() {
            return attempted;
        }

        @Override
        public boolean continueReading() {
            return continueReading(this);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreData) {
            return config.isAutoRead() && maybeMoreData.get() && reads < MAX_READS_PER_EVENT && bytesRead > 0;
        }

        /** Whether the last read filled its buffer, so more may be waiting. */
        @Override
        public boolean get() {
            return attempted == last;
        }

        @Override
        public void readComplete() {
            record(bytesRead < 0 ? Integer.MAX_VALUE : bytesRead);
        }

        private void record(int size) {
            if (size <= SIZES[Math.max(0, index - 1)]) {
                if (shrinkNext) {
                    index = (byte) Math.max(index - 1, MIN_INDEX);
                    shrinkNext = false;
                } else {
                    shrinkNext = true;
                }
            } else if (size >= SIZES[index]) {
                index = (byte) Math.min(index + STEP_UP, MAX_INDEX);
                shrinkNext = false;
            }
        }
    }
}
