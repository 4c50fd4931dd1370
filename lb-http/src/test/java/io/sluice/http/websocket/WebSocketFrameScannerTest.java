package io.sluice.http.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** {@link FrameScanner}: frame headers followed across buffers split anywhere; payloads never read. */
class WebSocketFrameScannerTest {

    /** A masked client frame. */
    static byte[] frame(int opcode, boolean fin, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write((fin ? 0x80 : 0) | opcode);
        if (length < 126) {
            out.write(0x80 | length);
        } else if (length < 65536) {
            out.write(0x80 | 126);
            out.write(length >>> 8);
            out.write(length & 0xFF);
        } else {
            out.write(0x80 | 127);
            for (int i = 7; i >= 0; i--) {
                out.write((int) ((long) length >>> (8 * i)) & 0xFF);
            }
        }
        out.writeBytes(new byte[] {9, 8, 7, 6});
        out.writeBytes(new byte[length]);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Scans {@code bytes} in pieces of {@code step}; returns the absolute offset of the cut, or -1. */
    static int scanInPieces(FrameScanner s, byte[] bytes, int step) {
        for (int at = 0; at < bytes.length; at += step) {
            ByteBuf b = Unpooled.wrappedBuffer(bytes, at, Math.min(step, bytes.length - at));
            int cut = s.scan(b);
            if (cut >= 0) {
                return at + cut;
            }
        }
        return -1;
    }

    @Test
    void framesWithinTheLimitPassWhateverTheSplit() {
        byte[] stream = concat(frame(1, true, 100), frame(2, true, 1000), frame(9, true, 4), frame(2, true, 70_000));
        for (int step : new int[] {1, 2, 3, 7, 64, 1 << 20}) {
            assertEquals(-1, scanInPieces(new FrameScanner(70_000), stream, step), "step " + step);
        }
    }

    @Test
    void theFirstFrameOverTheLimitIsCutAtItsHeader() {
        byte[] ok = frame(1, true, 100);
        byte[] stream = concat(ok, frame(2, true, 2000), frame(1, true, 5));
        assertEquals(ok.length, scanInPieces(new FrameScanner(1024), stream, 1 << 20));
        FrameScanner s = new FrameScanner(1024);
        assertEquals(ok.length, scanInPieces(s, stream, stream.length));
        assertTrue(s.cleanCut(), "the header began in the buffer that showed the length");
        assertEquals(ok.length, scanInPieces(new FrameScanner(1024), stream, ok.length), "a cut at a buffer's start");
        FrameScanner split = new FrameScanner(1024);
        int cut = scanInPieces(split, stream, 1); // byte by byte: the header spans buffers
        assertTrue(cut >= ok.length);
        assertFalse(split.cleanCut());
    }

    @Test
    void continuationsCountTowardsTheirMessage() {
        byte[] message = concat(frame(1, false, 600), frame(9, true, 3), frame(0, false, 300), frame(0, true, 300));
        assertTrue(scanInPieces(new FrameScanner(1024), message, 5) >= 0, "600 + 300 + 300 > 1024");
        byte[] twoMessages = concat(frame(1, false, 600), frame(0, true, 300), frame(1, true, 900));
        assertEquals(-1, scanInPieces(new FrameScanner(1024), twoMessages, 5), "a new message starts from zero");
    }

    @Test
    void aSixtyFourBitLengthWithItsHighBitIsRefused() {
        byte[] head = {(byte) 0x82, (byte) 0xFF, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0};
        assertEquals(0, new FrameScanner(Long.MAX_VALUE).scan(Unpooled.wrappedBuffer(head)));
    }
}
