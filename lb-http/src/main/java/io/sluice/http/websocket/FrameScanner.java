package io.sluice.http.websocket;

import io.netty.buffer.ByteBuf;

/**
 * Follows the frame headers of one direction of a WebSocket byte stream, split anywhere, without
 * decoding payloads: enough to refuse a message (the payloads of a data frame and its
 * continuations) larger than the limit, before its payload is forwarded.
 */
final class FrameScanner {
    private static final int FIRST = 0, SECOND = 1, LENGTH = 2, MASK = 3, PAYLOAD = 4;
    private final long max;
    private int state = FIRST;
    private int need;            // bytes of extended length or mask still to come
    private long length;
    private boolean masked;
    private boolean fin;
    private int opcode;
    private long remaining;      // payload bytes of the current frame still to skip
    private long message;        // payload bytes of the current data message so far
    private boolean startedHere; // the current frame's header began in the buffer being scanned
    private int frameStart;

    FrameScanner(long max) {
        this.max = max;
    }

    /**
     * @return -1 when every frame header in {@code b} is within the limit; else the number of bytes of
     *         {@code b} before the offending frame (0 when its header began in an earlier buffer, see
     *         {@link #cleanCut()})
     */
    int scan(ByteBuf b) {
        int i = b.readerIndex();
        int end = b.writerIndex();
        startedHere = false;
        while (i < end) {
            switch (state) {
                case FIRST -> {
                    frameStart = i;
                    startedHere = true;
                    byte x = b.getByte(i++);
                    fin = (x & 0x80) != 0;
                    opcode = x & 0x0F;
                    state = SECOND;
                }
                case SECOND -> {
                    byte x = b.getByte(i++);
                    masked = (x & 0x80) != 0;
                    int l = x & 0x7F;
                    length = 0;
                    if (l == 126) {
                        need = 2;
                        state = LENGTH;
                    } else if (l == 127) {
                        need = 8;
                        state = LENGTH;
                    } else {
                        length = l;
                        if (!lengthKnown()) {
                            return startedHere ? frameStart - b.readerIndex() : 0;
                        }
                    }
                }
                case LENGTH -> {
                    length = (length << 8) | (b.getByte(i++) & 0xFF);
                    if (--need == 0 && !lengthKnown()) {
                        return startedHere ? frameStart - b.readerIndex() : 0;
                    }
                }
                case MASK -> {
                    i++;
                    if (--need == 0) {
                        payload();
                    }
                }
                default -> { // PAYLOAD
                    int skip = (int) Math.min(remaining, end - i);
                    i += skip;
                    remaining -= skip;
                    if (remaining == 0) {
                        frameEnd();
                    }
                }
            }
        }
        return -1;
    }

    /** Whether the offending frame found by the last {@link #scan} began in that buffer (frames before it are whole). */
    boolean cleanCut() {
        return startedHere;
    }

    /** @return false when the frame makes its message too large */
    private boolean lengthKnown() {
        if (length < 0) {
            return false; // the most significant bit of a 64-bit length: invalid, and surely too large
        }
        if (opcode < 8) {
            message = opcode == 0 ? message + length : length;
            if (message > max) {
                return false;
            }
        }
        if (masked) {
            need = 4;
            state = MASK;
        } else {
            payload();
        }
        return true;
    }

    private void payload() {
        remaining = length;
        state = PAYLOAD;
        if (remaining == 0) {
            frameEnd();
        }
    }

    private void frameEnd() {
        if (fin && opcode < 8) {
            message = 0;
        }
        state = FIRST;
    }
}
