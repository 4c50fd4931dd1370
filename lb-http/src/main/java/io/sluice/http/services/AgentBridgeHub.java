package io.sluice.http.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.config.ServicesConfig;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code service: agent-bridge}: a message bus for cooperating agents. A connection registers as one
 * agent (with optional capabilities), then {@code broadcast}s (to every other agent, or to a room it
 * joined), {@code send}s to one agent by name, and may {@code join}/{@code leave} rooms. The relay
 * sets {@code from}; {@code stats} counts agents, rooms and messages relayed (each delivered copy).
 */
final class AgentBridgeHub implements Hub {
    /** Rooms one agent may be in at once. */
    static final int MAX_ROOMS_PER_AGENT = 16;
    private final ObjectMapper json = new ObjectMapper();
    private volatile ServicesConfig.AgentBridgeConfig config; // replaced by a reload
    private final Map<String, Peer> agents = new LinkedHashMap<>();
    private final Map<String, JsonNode> capabilities = new HashMap<>();
    private final Map<String, Set<String>> rooms = new HashMap<>(); // room -> agent names
    private long relayed;

    AgentBridgeHub(ServicesConfig.AgentBridgeConfig config) {
        this.config = config;
    }

    /** New limits from a reload: they apply to what comes next; rooms and members already there stay. */
    void config(ServicesConfig.AgentBridgeConfig next) {
        config = next;
    }

    @Override
    public int maxMessage() {
        return config.maxMessageBytes();
    }

    private static final class Agent {
        String name;
        final Set<String> rooms = new HashSet<>();
    }

    private static Agent agent(Peer p) {
        if (p.state == null) {
            p.state = new Agent();
        }
        return (Agent) p.state;
    }

    @Override
    public synchronized void onMessage(Peer p, ObjectNode msg) {
        String type = msg.path("type").asText("");
        Agent me = agent(p);
        if (type.equals("register")) {
            register(p, me, SignalingHub.text(msg, "agent"), msg.get("capabilities"));
            return;
        }
        if (me.name == null) {
            p.error("register first: {\"type\":\"register\",\"agent\":NAME}");
            return;
        }
        switch (type) {
            case "broadcast" -> {
                String room = SignalingHub.text(msg, "room");
                if (room != null && !me.rooms.contains(room)) {
                    p.error("join room " + room + " first");
                    return;
                }
                ObjectNode out = json.createObjectNode().put("type", "broadcast").put("from", me.name);
                if (room != null) {
                    out.put("room", room);
                }
                out.set("data", msg.get("data"));
                String text = out.toString();
                for (String name : room == null ? agents.keySet() : rooms.get(room)) {
                    if (!name.equals(me.name) && agents.get(name).send(text)) {
                        relayed++;
                    }
                }
            }
            case "send" -> {
                String to = SignalingHub.text(msg, "to");
                Peer target = to == null ? null : agents.get(to);
                if (target == null) {
                    p.error(to == null ? "\"to\" names no agent" : "no agent " + to);
                    return;
                }
                ObjectNode out = json.createObjectNode().put("type", "message").put("from", me.name);
                out.set("data", msg.get("data"));
                if (target.send(out.toString())) {
                    relayed++;
                }
            }
            case "join" -> {
                String room = SignalingHub.text(msg, "room");
                if (room == null) {
                    p.error("\"room\" is required");
                } else if (me.rooms.size() >= MAX_ROOMS_PER_AGENT && !me.rooms.contains(room)) {
                    p.error("an agent may be in at most " + MAX_ROOMS_PER_AGENT + " rooms");
                } else {
                    me.rooms.add(room);
                    rooms.computeIfAbsent(room, r -> new HashSet<>()).add(me.name);
                    p.send(json.createObjectNode().put("type", "joined").put("room", room).toString());
                }
            }
            case "leave" -> {
                String room = SignalingHub.text(msg, "room");
                if (room == null || !me.rooms.remove(room)) {
                    p.error("not in room " + room);
                } else {
                    leaveRoom(me.name, room);
                    p.send(json.createObjectNode().put("type", "left").put("room", room).toString());
                }
            }
            default -> p.error("unknown type '" + type + "' (register, broadcast, send, join, leave)");
        }
    }

    private void register(Peer p, Agent me, String name, JsonNode caps) {
        if (me.name != null) {
            p.error("already registered as " + me.name);
            return;
        }
        if (name == null) {
            p.error("\"agent\" (a non-empty string of at most 128 characters) is required");
            return;
        }
        if (agents.containsKey(name)) {
            p.error("agent " + name + " is already registered");
            return;
        }
        if (agents.size() >= config.maxAgents()) {
            p.error("the bridge is full (" + config.maxAgents() + " agents)");
            return;
        }
        ObjectNode joined = json.createObjectNode().put("type", "agent-joined").put("agent", name);
        if (caps != null) {
            joined.set("capabilities", caps);
        }
        String event = joined.toString();
        for (Peer other : agents.values()) {
            other.send(event);
        }
        ObjectNode answer = json.createObjectNode().put("type", "registered").put("agent", name);
        ArrayNode list = answer.putArray("agents");
        for (String other : agents.keySet()) {
            ObjectNode a = list.addObject().put("agent", other);
            if (capabilities.get(other) != null) {
                a.set("capabilities", capabilities.get(other));
            }
        }
        me.name = name;
        agents.put(name, p);
        capabilities.put(name, caps);
        p.send(answer.toString());
    }

    private void leaveRoom(String name, String room) {
        Set<String> members = rooms.get(room);
        if (members != null) {
            members.remove(name);
            if (members.isEmpty()) {
                rooms.remove(room);
            }
        }
    }

    @Override
    public synchronized void closed(Peer p) {
        Agent me = agent(p);
        if (me.name == null || agents.get(me.name) != p) {
            return;
        }
        agents.remove(me.name);
        capabilities.remove(me.name);
        for (String room : me.rooms) {
            leaveRoom(me.name, room);
        }
        String event = json.createObjectNode().put("type", "agent-left").put("agent", me.name).toString();
        for (Peer other : agents.values()) {
            other.send(event);
        }
    }

    /** {@code {agents, rooms, messagesRelayed}}. */
    synchronized String stats() {
        return json.createObjectNode().put("agents", agents.size()).put("rooms", rooms.size())
                .put("messagesRelayed", relayed).toString();
    }
}
