package io.sluice.admin.gpu;

import java.util.List;

/**
 * What one backend's vLLM said in its latest scrape. Values summed over label sets (one per model
 * served); null when the backend does not export the metric.
 *
 * @param kvCacheUsage          0..1, from {@code vllm:kv_cache_usage_perc} or the older {@code vllm:gpu_cache_usage_perc}
 * @param generationTokensPerSecond from the counter's increase since the previous scrape; null on the first
 */
public record VllmStats(Double kvCacheUsage, Double running, Double waiting, Double promptTokensTotal,
                        Double generationTokensTotal, Double generationTokensPerSecond,
                        Double promptTokensPerSecond, List<String> models, long atMillis) {

    /** Parses vLLM's Prometheus text: only the metrics Sluice shows; unknown lines are skipped. */
    public static VllmStats parse(String text, List<String> models, VllmStats previous, long nowMillis) {
        Double kv = null;
        Double oldKv = null;
        Double running = null;
        Double waiting = null;
        Double prompt = null;
        Double generation = null;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.charAt(0) == '#') {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                continue;
            }
            String name = line.substring(0, brace >= 0 && brace < space ? brace : line.indexOf(' '));
            double v;
            try {
                v = Double.parseDouble(line.substring(space + 1).trim());
            } catch (NumberFormatException e) {
                continue;
            }
            switch (name) {
                case "vllm:kv_cache_usage_perc" -> kv = add(kv, v);
                case "vllm:gpu_cache_usage_perc" -> oldKv = add(oldKv, v);
                case "vllm:num_requests_running" -> running = add(running, v);
                case "vllm:num_requests_waiting" -> waiting = add(waiting, v);
                case "vllm:prompt_tokens_total" -> prompt = add(prompt, v);
                case "vllm:generation_tokens_total" -> generation = add(generation, v);
                default -> {
                }
            }
        }
        Double genRate = null;
        Double promptRate = null;
        if (previous != null && nowMillis > previous.atMillis()) {
            double secs = (nowMillis - previous.atMillis()) / 1000.0;
            genRate = rate(previous.generationTokensTotal(), generation, secs);
            promptRate = rate(previous.promptTokensTotal(), prompt, secs);
        }
        return new VllmStats(kv != null ? kv : oldKv, running, waiting, prompt, generation, genRate, promptRate,
                List.copyOf(models), nowMillis);
    }

    private static Double add(Double sum, double v) {
        return sum == null ? v : sum + v;
    }

    /** A counter that went down was reset (the server restarted): no rate for this interval. */
    private static Double rate(Double before, Double now, double secs) {
        if (before == null || now == null || now < before) {
            return null;
        }
        return (now - before) / secs;
    }
}
