package io.sluice.core.config;

import java.util.List;

/**
 * Header rules of a route or a pool: pure data, applied by the data path.
 *
 * @param request  towards the upstream, in application order (removes, then sets, then adds)
 * @param response towards the client, in the same order
 */
public record HeaderRules(List<HeaderRule> request, List<HeaderRule> response) {
    public static final HeaderRules NONE = new HeaderRules(List.of(), List.of());

    public HeaderRules {
        request = request == null ? List.of() : List.copyOf(request);
        response = response == null ? List.of() : List.copyOf(response);
    }

    public boolean isEmpty() {
        return request.isEmpty() && response.isEmpty();
    }
}
