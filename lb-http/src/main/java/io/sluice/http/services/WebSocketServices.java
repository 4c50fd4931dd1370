package io.sluice.http.services;

import io.netty.channel.ChannelHandlerContext;
import io.sluice.core.config.ServicesConfig;
import io.sluice.core.exchange.ExchangeTarget;

/**
 * The gateway's built-in WebSocket services ({@code signaling}, {@code agent-bridge}): one hub each,
 * shared by every listener and event loop, made from {@code services:} at start (a reload that
 * changes their limits needs a restart).
 */
public final class WebSocketServices {
    private final SignalingHub signaling;
    private final AgentBridgeHub agentBridge;

    public WebSocketServices(ServicesConfig config) {
        signaling = config.signaling() == null ? null : new SignalingHub(config.signaling());
        agentBridge = config.agentBridge() == null ? null : new AgentBridgeHub(config.agentBridge());
    }

    /** The target of one request to service {@code name} ({@link ServicesConfig#SIGNALING} or {@link ServicesConfig#AGENT_BRIDGE}). */
    public ExchangeTarget target(ChannelHandlerContext ctx, String name) {
        return new WebSocketService(ctx, name, ServicesConfig.SIGNALING.equals(name) ? signaling : agentBridge);
    }
}
