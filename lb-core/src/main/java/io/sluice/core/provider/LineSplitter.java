package io.sluice.core.provider;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Splits a body that arrives in arbitrary pieces into lines ({@code \n}, {@code \r\n} or {@code \r}, as SSE
 * allows), keeping only the unfinished line. Bytes are decoded as UTF-8 once a line is whole, so a piece may
 * end inside a multi-byte sequence or between {@code \r} and {@code \n}. A line longer than {@link #maxLine}
 * bytes is refused instead of growing the buffer without bound.
 */
final class LineSplitter {
    /** The longest line accepted: far above any real event, low enough that a broken upstream cannot exhaust memory. */
    static final int MAX_LINE = 1 << 20;

    interface Handler {
        /** One whole line, without its terminator. */
        void line(String line);

        /** The line being read is over {@link #MAX_LINE}; nothing is read after this. */
        void tooLong(int limit);

        /** Whether to stop reading (the stream already ended); checked before every line. */
        boolean stopped();
    }

    private static final ByteProcessor FIND_EOL = b -> b != '\n' && b != '\r';

    private final Handler handler;
    private final int maxLine;
    private byte[] buf = new byte[256];
    private int len;
    private boolean afterCr;
    private boolean failed;

    LineSplitter(Handler handler) {
        this(handler, MAX_LINE);
    }

    LineSplitter(Handler handler, int maxLine) {
        this.handler = handler;
        this.maxLine = maxLine;
    }

    /** Reads {@code bytes} from its reader index to its writer index without moving either. */
    void feed(ByteBuf bytes) {
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (i < end && !failed && !handler.stopped()) {
            if (afterCr) {
                afterCr = false;
                if (bytes.getByte(i) == '\n') {
                    i++;
                    continue;
                }
            }
            int eol = bytes.forEachByte(i, end - i, FIND_EOL);
            int stop = eol < 0 ? end : eol;
            if (!append(bytes, i, stop - i)) {
                return;
            }
            if (eol < 0) {
                return;
            }
            afterCr = bytes.getByte(eol) == '\r';
            i = eol + 1;
            emit();
        }
    }

    /** The body ended: an unterminated last line still counts. */
    void end() {
        if (!failed && len > 0 && !handler.stopped()) {
            emit();
        }
    }

    private boolean append(ByteBuf bytes, int from, int n) {
        if (n == 0) {
            return true;
        }
        if (len + n > maxLine) {
            failed = true;
            buf = null;
            handler.tooLong(maxLine);
            return false;
        }
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.min(maxLine, Math.max(buf.length * 2, len + n)));
        }
        bytes.getBytes(from, buf, len, n);
        len += n;
        return true;
    }

    private void emit() {
        String line = new String(buf, 0, len, StandardCharsets.UTF_8);
        len = 0;
        handler.line(line);
    }
}
