package io.sluice.admin.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.http.Json;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The local GPUs, from {@code nvidia-smi} (NVIDIA) or else {@code rocm-smi} (AMD), looked up on a
 * search path. Blocking (it runs a process): call it off the event loop. Results are kept for
 * {@link #CACHE_MILLIS} so a dashboard polling the endpoint does not fork a process per request.
 */
public final class GpuProbe {
    static final long CACHE_MILLIS = 2000;
    static final String NVIDIA_QUERY = "index,name,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw";

    private final String searchPath;
    private volatile Result cached;

    /** @param searchPath directories separated by {@link File#pathSeparator}, like {@code $PATH} */
    public GpuProbe(String searchPath) {
        this.searchPath = searchPath == null ? "" : searchPath;
    }

    /** {@code available: false} (with the reason) when neither tool exists or answers. */
    public record Result(boolean available, String vendor, String source, List<Map<String, Object>> gpus, String error,
                         long atMillis) {
    }

    public synchronized Result read() {
        Result c = cached;
        long now = System.currentTimeMillis();
        if (c != null && now - c.atMillis() < CACHE_MILLIS) {
            return c;
        }
        c = probe(now);
        cached = c;
        return c;
    }

    private Result probe(long now) {
        Path nvidia = find("nvidia-smi");
        if (nvidia != null) {
            try {
                String out = run(nvidia.toString(), "--query-gpu=" + NVIDIA_QUERY, "--format=csv,noheader,nounits");
                return new Result(true, "nvidia", "nvidia-smi", parseNvidia(out), null, now);
            } catch (IOException e) {
                return new Result(false, "nvidia", "nvidia-smi", List.of(), e.getMessage(), now);
            }
        }
        Path rocm = find("rocm-smi");
        if (rocm != null) {
            try {
                String out = run(rocm.toString(), "--showuse", "--showmeminfo", "vram", "--json");
                return new Result(true, "amd", "rocm-smi", parseRocm(out), null, now);
            } catch (IOException e) {
                return new Result(false, "amd", "rocm-smi", List.of(), e.getMessage(), now);
            }
        }
        return new Result(false, null, null, List.of(), "neither nvidia-smi nor rocm-smi found", now);
    }

    Path find(String tool) {
        for (String dir : searchPath.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, tool);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static String run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (InputStream in = p.getInputStream()) {
            String out = new String(in.readNBytes(1 << 16), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                throw new IOException(cmd[0] + " did not finish within 5s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(cmd[0] + " exited with " + p.exitValue() + ": " + out.strip());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            p.destroy();
        }
    }

    /** {@code 0, NVIDIA A100-SXM4-80GB, GPU-…, 87, 61234, 81920, 64, 312.45} per line. */
    static List<Map<String, Object>> parseNvidia(String csv) {
        List<Map<String, Object>> gpus = new ArrayList<>();
        for (String line : csv.split("\n")) {
            String[] f = line.split(",\\s*");
            if (f.length < 8) {
                continue;
            }
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("index", number(f[0]));
            g.put("name", f[1].trim());
            g.put("uuid", f[2].trim());
            g.put("utilization_percent", number(f[3]));
            g.put("memory_used_mib", number(f[4]));
            g.put("memory_total_mib", number(f[5]));
            g.put("temperature_c", number(f[6]));
            g.put("power_watts", number(f[7]));
            gpus.add(g);
        }
        return gpus;
    }

    /** rocm-smi's JSON: {@code {"card0": {"GPU use (%)": "12", "VRAM Total Memory (B)": "…", "VRAM Total Used Memory (B)": "…"}}}. */
    static List<Map<String, Object>> parseRocm(String json) throws IOException {
        List<Map<String, Object>> gpus = new ArrayList<>();
        JsonNode root = Json.MAPPER.readTree(json);
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> card = it.next();
            if (!card.getKey().startsWith("card")) {
                continue;
            }
            JsonNode c = card.getValue();
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("index", number(card.getKey().substring(4)));
            g.put("name", c.path("Card series").asText(card.getKey()));
            g.put("utilization_percent", number(c.path("GPU use (%)").asText("")));
            Number used = number(c.path("VRAM Total Used Memory (B)").asText(""));
            Number total = number(c.path("VRAM Total Memory (B)").asText(""));
            g.put("memory_used_mib", used == null ? null : used.longValue() / (1024 * 1024));
            g.put("memory_total_mib", total == null ? null : total.longValue() / (1024 * 1024));
            gpus.add(g);
        }
        return gpus;
    }

    /** A number, or null for nvidia-smi's {@code [N/A]} and friends. */
    private static Number number(String s) {
        String t = s.trim();
        try {
            if (t.contains(".")) {
                return Double.parseDouble(t); // not a ternary: that would promote the long to double
            }
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
