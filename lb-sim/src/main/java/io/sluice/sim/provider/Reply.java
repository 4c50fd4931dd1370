package io.sluice.sim.provider;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a format answers to one request, decided up front so that the event loop only replays it:
 * an immediate response, a generated full response (sent once "generation" is over), a timed stream
 * of events, or an abrupt close.
 */
final class Reply {
    /** How a generation ends. */
    enum Ending {
        /** The format's normal end; counted in {@link ProviderSimulator#completed()}. */
        COMPLETE,
        /** The response ends properly after an in-band error event; not a normal completion. */
        ERROR,
        /** The connection is reset (TCP RST) where the next event was due: no final event, no last chunk. */
        ABORT
    }

    /**
     * One write of a stream. A {@code token} event waits one inter-token interval after the previous
     * token (the first waits the time to first token); other events go out right after what precedes them.
     */
    record Event(byte[] bytes, boolean token) {}

    /** Timing of one generation; {@code splitMultibyte} writes each event in two flushes cut inside a character. */
    record Pace(Duration ttft, Duration itl, boolean splitMultibyte) {}

    final HttpResponseStatus status;
    final String contentType;
    final byte[] body;
    final List<Event> events;
    final Ending ending;
    /** Null for immediate answers, which are not generations. */
    final Pace pace;
    final int pieces;
    final Map<String, String> headers = new LinkedHashMap<>();

    private Reply(HttpResponseStatus status, String contentType, byte[] body, List<Event> events, Ending ending,
                  Pace pace, int pieces) {
        this.status = status;
        this.contentType = contentType;
        this.body = body;
        this.events = events;
        this.ending = ending;
        this.pace = pace;
        this.pieces = pieces;
    }

    static Reply now(HttpResponseStatus status, String contentType, byte[] body) {
        return new Reply(status, contentType, body, null, Ending.COMPLETE, null, 0);
    }

    /** A 200 with the whole body once {@code pieces} would have been generated: ttft + (pieces - 1) * itl. */
    static Reply generated(String contentType, byte[] body, Pace pace, int pieces) {
        return new Reply(HttpResponseStatus.OK, contentType, body, null, Ending.COMPLETE, pace, pieces);
    }

    /** A 200 whose head goes out at once and whose events follow on the pace. */
    static Reply stream(String contentType, List<Event> events, Ending ending, Pace pace) {
        return new Reply(HttpResponseStatus.OK, contentType, null, List.copyOf(events), ending, pace, 0);
    }

    /** No response at all: the connection is reset after the time to first token. */
    static Reply abort(Pace pace) {
        return new Reply(HttpResponseStatus.OK, null, null, null, Ending.ABORT, pace, 0);
    }

    Reply header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    boolean immediate() {
        return pace == null;
    }

    /** Delay before the first write: the whole generation for a full generated body, else the time to first token. */
    long firstDelayNanos() {
        long ttft = pace.ttft().toNanos();
        if (events == null && body != null) {
            return ttft + Math.max(0, pieces - 1) * pace.itl().toNanos();
        }
        return ttft;
    }
}
