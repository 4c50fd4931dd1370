package io.sluice.http.services;

import io.netty.channel.ChannelHandlerContext;
import io.sluice.core.config.ServicesConfig;
import io.sluice.core.exchange.ExchangeTarget;

/**
 * The gateway's built-in WebSocket services ({@code signaling}, {@code agent-bridge}): one hub each,
 * shared by every listener and event loop. A reload ({@link #apply}) changes their limits for what
 * comes next (new rooms and agents, new connections' message size) and may enable or disable one; a
 * disabled service refuses new connections and lets those already open run on.
 */
public final class WebSocketServices {
    private volatile SignalingHub signaling;
    private volatile AgentBridgeHub agentBridge;
    private volatile boolean signalingOn;
    private volatile boolean agentBridgeOn;

    public WebSocketServices(ServicesConfig config) {
        apply(config);
    }

    /** Takes the {@code services:} of a (re)loaded config. */
    public synchronized void apply(ServicesConfig config) {
        signalingOn = config.signaling() != null;
        if (signalingOn) {
            if (signaling == null) {
                signaling = new SignalingHub(config.signaling());
            } else {
                signaling.config(config.signaling());
            }
        }
        agentBridgeOn = config.agentBridge() != null;
        if (agentBridgeOn) {
            if (agentBridge == null) {
                agentBridge = new AgentBridgeHub(config.agentBridge());
            } else {
                agentBridge.config(config.agentBridge());
            }
        }
    }

    /** The target of one request to service {@code name} ({@link ServicesConfig#SIGNALING} or {@link ServicesConfig#AGENT_BRIDGE}). */
    public ExchangeTarget target(ChannelHandlerContext ctx, String name) {
        Hub hub = ServicesConfig.SIGNALING.equals(name) ? (signalingOn ? signaling : null) : (agentBridgeOn ? agentBridge : null);
        return new WebSocketService(ctx, name, hub);
    }
}
