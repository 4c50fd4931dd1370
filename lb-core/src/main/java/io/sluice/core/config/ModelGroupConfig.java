package io.sluice.core.config;

import java.util.List;

/**
 * A model name that stands for an ordered list of provider models: a request for it goes to the first
 * member that can take it, and moves on, before any byte reached the client, on a connect failure, a
 * 5xx, a 429 or a full queue (local vLLM first, a cloud provider when it is saturated).
 */
public record ModelGroupConfig(String name, List<Member> members) {
    public record Member(String provider, String model) {
    }

    public ModelGroupConfig {
        members = List.copyOf(members);
    }
}
