package io.sluice.http.services;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** What a built-in WebSocket service does with its connections' JSON messages; shared by every event loop. */
interface Hub {
    /** The largest message a connection may send (a larger one closes it with 1009). */
    int maxMessage();

    void onMessage(Peer p, ObjectNode msg);

    /** The connection closed: it leaves whatever it had joined. */
    void closed(Peer p);
}
