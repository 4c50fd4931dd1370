package io.sluice.core.config;

/**
 * {@code services:}: Sluice's built-in services for a browser app that has no server of its own
 * (issue 15). Each is off (null) unless configured, and is reached only through a route with
 * {@code service: NAME} ({@link RouteConfig#service()}).
 *
 * @param vfs         {@code vfs}: {@code POST .../backup} stores the posted JSON state, {@code GET .../restore} returns it
 * @param console     {@code console}: the browser's log lines into Sluice's log
 * @param signaling   {@code signaling}: a WebSocket relay for WebRTC peers
 * @param agentBridge {@code agent-bridge}: a WebSocket message bus for cooperating agents
 */
public record ServicesConfig(VfsConfig vfs, ConsoleConfig console, SignalingConfig signaling, AgentBridgeConfig agentBridge) {
    public static final ServicesConfig NONE = new ServicesConfig(null, null, null, null);

    public static final String VFS = "vfs";
    public static final String CONSOLE = "console";
    public static final String SIGNALING = "signaling";
    public static final String AGENT_BRIDGE = "agent-bridge";
    public static final java.util.List<String> NAMES = java.util.List.of(VFS, CONSOLE, SIGNALING, AGENT_BRIDGE);

    /** True when {@code name} (one of {@link #NAMES}) is configured. */
    public boolean enabled(String name) {
        return switch (name) {
            case VFS -> vfs != null;
            case CONSOLE -> console != null;
            case SIGNALING -> signaling != null;
            case AGENT_BRIDGE -> agentBridge != null;
            default -> false;
        };
    }

    /** @param file where the state is kept; @param maxBytes the largest accepted body */
    public record VfsConfig(java.nio.file.Path file, long maxBytes) {
    }

    /** @param perMinute lines accepted per client address and minute; @param maxBytes the largest accepted body */
    public record ConsoleConfig(int perMinute, long maxBytes) {
    }

    /** @param maxPeersPerRoom peers one room holds; @param maxMessageBytes the largest relayed message */
    public record SignalingConfig(int maxPeersPerRoom, int maxMessageBytes) {
    }

    /** @param maxAgents agents registered at once; @param maxMessageBytes the largest relayed message */
    public record AgentBridgeConfig(int maxAgents, int maxMessageBytes) {
    }
}
