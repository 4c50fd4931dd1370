package io.sluice.sim;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * vLLM's OpenAI-server bodies, byte for byte.
 *
 * <p>Field order and presence follow vLLM's pydantic models and how each is dumped: stream chunks of
 * chat use {@code exclude_unset} (so fields vLLM passes explicitly, even as None, appear), completion
 * chunks dump everything, usage chunks add {@code exclude_none}, and non-streaming bodies dump every
 * field. Stream chunks are split into constant byte arrays around the token text so the per-token path
 * is a few {@code writeBytes} with no JSON library involved.
 */
final class Wire {
    static final byte[] DONE = bytes("data: [DONE]\n\n");

    static final byte[] CHAT_ROLE = bytes(",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
            + "\"logprobs\":null,\"finish_reason\":null}],\"prompt_token_ids\":null}\n\n");
    static final byte[] CHAT_MID = bytes(",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"");
    static final byte[] CHAT_END = bytes("\"},\"logprobs\":null,\"finish_reason\":null,\"token_ids\":null}]}\n\n");
    static final byte[] CHAT_END_STOP = chatFinish("stop");
    static final byte[] CHAT_END_LENGTH = chatFinish("length");

    static final byte[] TEXT_MID = bytes(",\"choices\":[{\"index\":0,\"text\":\"");
    static final byte[] TEXT_END = textFinish("null");
    static final byte[] TEXT_END_STOP = textFinish("\"stop\"");
    static final byte[] TEXT_END_LENGTH = textFinish("\"length\"");

    static final byte[] EMPTY = new byte[0];

    /** Filler vocabulary; ASCII without characters JSON would escape, so token bytes drop straight in. */
    private static final String[] WORDS = {" lorem", " ipsum", " dolor", " sit", " amet", ",", " consectetur",
        " adipiscing", " elit", ",", " sed", " do", " eiusmod", " tempor", " incididunt", " ut", " labore", " et",
        " dolore", " magna", " aliqua", "."};
    private static final String FIRST = "Lorem";
    private static final byte[][] WORD_BYTES = new byte[WORDS.length][];
    private static final byte[] FIRST_BYTES = bytes(FIRST);

    static {
        for (int i = 0; i < WORDS.length; i++) {
            WORD_BYTES[i] = bytes(WORDS[i]);
        }
    }

    private Wire() {
    }

    static String token(int i) {
        return i == 0 ? FIRST : WORDS[i % WORDS.length];
    }

    static byte[] tokenBytes(int i) {
        return i == 0 ? FIRST_BYTES : WORD_BYTES[i % WORDS.length];
    }

    /** {@code data: {"id":..,"object":..,"created":..,"model":..} without the closing brace: shared by every chunk. */
    static byte[] chunkHead(String id, String object, long created, String model) {
        return bytes("data: {\"id\":" + q(id) + ",\"object\":\"" + object + "\",\"created\":" + created
                + ",\"model\":" + q(model));
    }

    static byte[] usageTail(int prompt, int completion) {
        return bytes(",\"choices\":[],\"usage\":" + usage(prompt, completion, false) + "}\n\n");
    }

    static String chatCompletion(String id, long created, String model, String content, String finish,
                                 int prompt, int completion) {
        return "{\"id\":" + q(id) + ",\"object\":\"chat.completion\",\"created\":" + created + ",\"model\":" + q(model)
                + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + q(content)
                + ",\"refusal\":null,\"annotations\":null,\"audio\":null,\"function_call\":null,\"tool_calls\":[],"
                + "\"reasoning\":null},\"logprobs\":null,\"finish_reason\":\"" + finish + "\",\"stop_reason\":null,"
                + "\"token_ids\":null}],\"service_tier\":null,\"system_fingerprint\":null,\"usage\":"
                + usage(prompt, completion, true)
                + ",\"prompt_logprobs\":null,\"prompt_token_ids\":null,\"kv_transfer_params\":null}";
    }

    static String textCompletion(String id, long created, String model, String text, String finish,
                                 int prompt, int completion) {
        return "{\"id\":" + q(id) + ",\"object\":\"text_completion\",\"created\":" + created + ",\"model\":" + q(model)
                + ",\"choices\":[{\"index\":0,\"text\":" + q(text) + ",\"logprobs\":null,\"finish_reason\":\"" + finish
                + "\",\"stop_reason\":null,\"token_ids\":null,\"prompt_logprobs\":null,\"prompt_token_ids\":null}],"
                + "\"service_tier\":null,\"system_fingerprint\":null,\"usage\":" + usage(prompt, completion, true)
                + ",\"kv_transfer_params\":null}";
    }

    static String models(List<String> names, int maxModelLen) {
        long now = epochSeconds();
        StringBuilder sb = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < names.size(); i++) {
            sb.append(i == 0 ? "" : ",").append("{\"id\":").append(q(names.get(i)))
                    .append(",\"object\":\"model\",\"created\":").append(now)
                    .append(",\"owned_by\":\"vllm\",\"root\":").append(q(names.get(0)))
                    .append(",\"parent\":null,\"max_model_len\":").append(maxModelLen)
                    .append(",\"permission\":[{\"id\":\"modelperm-").append(hexId())
                    .append("\",\"object\":\"model_permission\",\"created\":").append(now)
                    .append(",\"allow_create_engine\":false,\"allow_sampling\":true,\"allow_logprobs\":true,"
                            + "\"allow_search_indices\":false,\"allow_view\":true,\"allow_fine_tuning\":false,"
                            + "\"organization\":\"*\",\"group\":null,\"is_blocking\":false}]}");
        }
        return sb.append("]}").toString();
    }

    /** vLLM's {@code ErrorResponse}; {@code param} may be null. */
    static String error(String message, String type, String param, int code) {
        return "{\"error\":{\"message\":" + q(message) + ",\"type\":" + q(type) + ",\"param\":"
                + (param == null ? "null" : q(param)) + ",\"code\":" + code + "}}";
    }

    /** FastAPI's default body for routing errors. */
    static String detail(String detail) {
        return "{\"detail\":" + q(detail) + "}";
    }

    /** {@code vllm:time_to_first_token_seconds}'s buckets in vLLM v1 ({@code vllm/v1/metrics/loggers.py}). */
    static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
        2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};

    /**
     * What {@code /metrics} reports.
     *
     * @param ttftBuckets cumulative counts per {@link #TTFT_BUCKETS} bound
     */
    record Snapshot(int running, int waiting, double kvUsage, long prefixQueries, long prefixHits, long prompt,
                    long generation, long[] finished, long[] ttftBuckets, long ttftCount, double ttftSum) {
    }

    /**
     * Prometheus text as prometheus_client renders vLLM v1's metrics (text format 0.0.4): labels sorted,
     * values as floats, counters as {@code <name>_total} samples under a {@code <name>_total} TYPE line,
     * histograms as {@code _bucket} (with {@code +Inf}), {@code _count} and {@code _sum}. Names, types and
     * help texts follow vLLM's "Production Metrics" page and {@code vllm/v1/metrics/loggers.py}.
     */
    static String metrics(String model, Snapshot s) {
        String modelLabel = "model_name=\"" + model.replace("\\", "\\\\").replace("\"", "\\\"")
                .replace("\n", "\\n") + "\"";
        String labels = "engine=\"0\"," + modelLabel;
        StringBuilder sb = new StringBuilder(4096);
        metric(sb, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.")
                .append("vllm:num_requests_running{").append(labels).append("} ").append(num(s.running())).append('\n');
        metric(sb, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.")
                .append("vllm:num_requests_waiting{").append(labels).append("} ").append(num(s.waiting())).append('\n');
        metric(sb, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.")
                .append("vllm:kv_cache_usage_perc{").append(labels).append("} ").append(num(s.kvUsage())).append('\n');
        metric(sb, "vllm:prefix_cache_queries_total", "counter",
                "Prefix cache queries, in terms of number of queried tokens.")
                .append("vllm:prefix_cache_queries_total{").append(labels).append("} ").append(num(s.prefixQueries()))
                .append('\n');
        metric(sb, "vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.")
                .append("vllm:prefix_cache_hits_total{").append(labels).append("} ").append(num(s.prefixHits()))
                .append('\n');
        metric(sb, "vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.")
                .append("vllm:num_preemptions_total{").append(labels).append("} 0.0\n");
        metric(sb, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.")
                .append("vllm:prompt_tokens_total{").append(labels).append("} ").append(num(s.prompt())).append('\n');
        metric(sb, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.")
                .append("vllm:generation_tokens_total{").append(labels).append("} ").append(num(s.generation()))
                .append('\n');
        metric(sb, "vllm:request_success_total", "counter", "Count of successfully processed requests.");
        for (FinishReason r : FinishReason.values()) {
            sb.append("vllm:request_success_total{engine=\"0\",finished_reason=\"").append(r.wire).append("\",")
                    .append(modelLabel).append("} ").append(num(s.finished()[r.ordinal()])).append('\n');
        }
        metric(sb, "vllm:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds.");
        for (int i = 0; i < TTFT_BUCKETS.length; i++) {
            sb.append("vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"").append(num(TTFT_BUCKETS[i]))
                    .append("\",").append(modelLabel).append("} ").append(num(s.ttftBuckets()[i])).append('\n');
        }
        sb.append("vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\",").append(modelLabel).append("} ")
                .append(num(s.ttftCount())).append('\n');
        sb.append("vllm:time_to_first_token_seconds_count{").append(labels).append("} ").append(num(s.ttftCount()))
                .append('\n');
        sb.append("vllm:time_to_first_token_seconds_sum{").append(labels).append("} ").append(num(s.ttftSum()))
                .append('\n');
        return sb.toString();
    }

    /** vLLM v1's {@code FinishReason} strings, in enum order. */
    enum FinishReason {
        STOP("stop"), LENGTH("length"), ABORT("abort"), ERROR("error"), REPETITION("repetition");

        final String wire;

        FinishReason(String wire) {
            this.wire = wire;
        }
    }

    static String hexId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return String.format("%016x%016x", r.nextLong(), r.nextLong());
    }

    static long epochSeconds() {
        return System.currentTimeMillis() / 1000;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string literal, escaped the way Python's json module does for non-ASCII-preserving output. */
    static String q(String s) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    private static String usage(int prompt, int completion, boolean details) {
        return "{\"prompt_tokens\":" + prompt + ",\"total_tokens\":" + (prompt + completion) + ",\"completion_tokens\":"
                + completion + (details ? ",\"prompt_tokens_details\":null}" : "}");
    }

    private static byte[] chatFinish(String reason) {
        return bytes("\"},\"logprobs\":null,\"finish_reason\":\"" + reason
                + "\",\"stop_reason\":null,\"token_ids\":null}]}\n\n");
    }

    private static byte[] textFinish(String reason) {
        return bytes("\",\"logprobs\":null,\"finish_reason\":" + reason
                + ",\"stop_reason\":null,\"prompt_token_ids\":null,\"token_ids\":null}],\"usage\":null}\n\n");
    }

    private static StringBuilder metric(StringBuilder sb, String name, String type, String help) {
        return sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name)
                .append(' ').append(type).append('\n');
    }

    /** Python's float repr for the values we emit: integers as {@code 3.0}, no exponent for small fractions. */
    private static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return (long) v + ".0";
        }
        return new BigDecimal(Double.toString(v)).toPlainString();
    }
}
