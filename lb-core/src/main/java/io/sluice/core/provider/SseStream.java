package io.sluice.core.provider;

/**
 * Server-sent events on top of lines (WHATWG HTML, "Server-sent events", event stream interpretation):
 * {@code event:} names the event, {@code data:} lines are joined with {@code \n}, a blank line dispatches,
 * lines starting with {@code :} are comments. Only the event being read is held, bounded like a line.
 */
abstract class SseStream extends ChunkStream {
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private String event;

    SseStream(String model, ChunkSink sink) {
        super(model, sink);
    }

    /** One complete event: its name (null when none was given) and its data. */
    abstract void event(String name, String data);

    @Override
    public final void line(String line) {
        if (line.isEmpty()) {
            dispatch();
            return;
        }
        if (line.charAt(0) == ':') {
            return;
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        if (field.equals("data")) {
            if (hasData) {
                data.append('\n');
            }
            hasData = true;
            data.append(value);
            if (data.length() > LineSplitter.MAX_LINE) {
                tooLong(LineSplitter.MAX_LINE);
            }
        } else if (field.equals("event")) {
            event = value;
        }
    }

    @Override
    final void endOfLines() {
        dispatch(); // a last event without its blank line still counts
    }

    private void dispatch() {
        String name = event;
        event = null;
        if (!hasData) {
            return;
        }
        String payload = data.toString();
        data.setLength(0);
        hasData = false;
        if (!ended()) {
            event(name, payload);
        }
    }
}
