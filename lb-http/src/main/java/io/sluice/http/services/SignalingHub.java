package io.sluice.http.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.config.ServicesConfig;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code service: signaling}: a relay for WebRTC peers. A connection joins rooms under a peer name;
 * {@code offer}, {@code answer}, {@code ice} and {@code signal} messages go to the peer named by
 * {@code to}, or without it to the rest of the room, with {@code from} set by the relay. One lock:
 * membership changes are rare next to the messages, and a send only queues a frame.
 */
final class SignalingHub implements Hub {
    /** Rooms one connection may be in at once. */
    static final int MAX_ROOMS_PER_CONNECTION = 8;
    private static final Set<String> RELAYED = Set.of("offer", "answer", "ice", "signal");
    private static final int MAX_NAME = 128;
    private final ObjectMapper json = new ObjectMapper();
    private volatile ServicesConfig.SignalingConfig config; // replaced by a reload
    private final Map<String, Map<String, Peer>> rooms = new HashMap<>(); // room -> peer name -> connection

    SignalingHub(ServicesConfig.SignalingConfig config) {
        this.config = config;
    }

    /** New limits from a reload: they apply to what comes next; rooms and members already there stay. */
    void config(ServicesConfig.SignalingConfig next) {
        config = next;
    }

    @Override
    public int maxMessage() {
        return config.maxMessageBytes();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> joined(Peer p) {
        if (p.state == null) {
            p.state = new LinkedHashMap<String, String>(); // room -> this connection's peer name there
        }
        return (Map<String, String>) p.state;
    }

    @Override
    public synchronized void onMessage(Peer p, ObjectNode msg) {
        String type = msg.path("type").asText("");
        String room = text(msg, "room");
        if (room == null) {
            p.error("\"room\" (a non-empty string of at most " + MAX_NAME + " characters) is required");
            return;
        }
        Map<String, String> mine = joined(p);
        switch (type) {
            case "join" -> join(p, mine, room, text(msg, "peer"));
            case "leave" -> {
                if (mine.remove(room) == null) {
                    p.error("not in room " + room);
                } else {
                    leave(p, room);
                }
            }
            default -> {
                if (!RELAYED.contains(type)) {
                    p.error("unknown type '" + type + "' (join, leave, offer, answer, ice, signal)");
                    return;
                }
                String me = mine.get(room);
                if (me == null) {
                    p.error("join room " + room + " first");
                    return;
                }
                Map<String, Peer> members = rooms.get(room);
                msg.put("from", me);
                String out = msg.toString();
                String to = text(msg, "to");
                if (to != null) {
                    Peer target = members.get(to);
                    if (target == null) {
                        p.error("no peer " + to + " in room " + room);
                    } else {
                        target.send(out);
                    }
                    return;
                }
                for (Map.Entry<String, Peer> e : members.entrySet()) {
                    if (e.getValue() != p) {
                        e.getValue().send(out);
                    }
                }
            }
        }
    }

    private void join(Peer p, Map<String, String> mine, String room, String peer) {
        if (peer == null) {
            p.error("\"peer\" (a non-empty string of at most " + MAX_NAME + " characters) is required");
            return;
        }
        if (mine.containsKey(room)) {
            p.error("already in room " + room + " as " + mine.get(room));
            return;
        }
        if (mine.size() >= MAX_ROOMS_PER_CONNECTION) {
            p.error("a connection may be in at most " + MAX_ROOMS_PER_CONNECTION + " rooms");
            return;
        }
        Map<String, Peer> members = rooms.computeIfAbsent(room, r -> new LinkedHashMap<>());
        if (members.containsKey(peer)) {
            p.error("peer " + peer + " is already in room " + room);
            return;
        }
        if (members.size() >= config.maxPeersPerRoom()) {
            p.error("room " + room + " is full (" + config.maxPeersPerRoom() + " peers)");
            return;
        }
        ObjectNode answer = json.createObjectNode().put("type", "peers").put("room", room);
        ArrayNode names = answer.putArray("peers");
        members.keySet().forEach(names::add);
        String joinedEvent = json.createObjectNode().put("type", "peer-joined").put("room", room).put("peer", peer).toString();
        for (Peer other : members.values()) {
            other.send(joinedEvent);
        }
        members.put(peer, p);
        mine.put(room, peer);
        p.send(answer.toString());
    }

    /** {@code p} is out of {@code room} (already removed from its own list): the room hears of it. */
    private void leave(Peer p, String room) {
        Map<String, Peer> members = rooms.get(room);
        if (members == null) {
            return;
        }
        String name = null;
        for (Map.Entry<String, Peer> e : members.entrySet()) {
            if (e.getValue() == p) {
                name = e.getKey();
            }
        }
        if (name == null) {
            return;
        }
        members.remove(name);
        if (members.isEmpty()) {
            rooms.remove(room);
            return;
        }
        String event = json.createObjectNode().put("type", "peer-left").put("room", room).put("peer", name).toString();
        for (Peer other : members.values()) {
            other.send(event);
        }
    }

    @Override
    public synchronized void closed(Peer p) {
        Map<String, String> mine = joined(p);
        for (String room : mine.keySet().toArray(new String[0])) {
            mine.remove(room);
            leave(p, room);
        }
    }

    synchronized int rooms() {
        return rooms.size();
    }

    static String text(JsonNode msg, String field) {
        JsonNode n = msg.get(field);
        if (n == null || !n.isTextual() || n.asText().isEmpty() || n.asText().length() > MAX_NAME) {
            return null;
        }
        return n.asText();
    }
}
