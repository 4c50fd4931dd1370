package io.sluice.admin.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPU probe runs real (fake) tools found on a search path, as it would nvidia-smi and rocm-smi. */
class GpuProbeTest {

    private static void script(Path dir, String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        assertTrue(p.toFile().setExecutable(true));
    }

    @Test
    void noToolMeansUnavailable(@TempDir Path empty) {
        GpuProbe.Result r = new GpuProbe(empty.toString()).read();
        assertFalse(r.available());
        assertEquals(List.of(), r.gpus());
        assertTrue(r.error().contains("neither nvidia-smi nor rocm-smi"));
    }

    @Test
    void fakeNvidiaSmiOnThePath(@TempDir Path bin, @TempDir Path other) throws Exception {
        // It must be asked for exactly the fields the parser expects, in CSV without header or units.
        script(bin, "nvidia-smi", """
                case "$*" in
                  *"--query-gpu=%s --format=csv,noheader,nounits"*) ;;
                  *) echo "unexpected arguments: $*" >&2; exit 9 ;;
                esac
                echo "0, NVIDIA A100-SXM4-80GB, GPU-1111, 87, 61234, 81920, 64, 312.45"
                echo "1, NVIDIA A100-SXM4-80GB, GPU-2222, 0, 3, 81920, 31, [N/A]"
                """.formatted(GpuProbe.NVIDIA_QUERY));
        GpuProbe.Result r = new GpuProbe(other + File.pathSeparator + bin).read();
        assertTrue(r.available(), String.valueOf(r.error()));
        assertEquals("nvidia", r.vendor());
        assertEquals(2, r.gpus().size());
        Map<String, Object> g0 = r.gpus().get(0);
        assertEquals("NVIDIA A100-SXM4-80GB", g0.get("name"));
        assertEquals(87L, g0.get("utilization_percent"));
        assertEquals(61234L, g0.get("memory_used_mib"));
        assertEquals(312.45, g0.get("power_watts"));
        assertNull(r.gpus().get(1).get("power_watts"), "[N/A] becomes null");
    }

    @Test
    void failingToolIsReportedNotThrown(@TempDir Path bin) throws Exception {
        script(bin, "nvidia-smi", "echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'; exit 9");
        GpuProbe.Result r = new GpuProbe(bin.toString()).read();
        assertFalse(r.available());
        assertTrue(r.error().contains("could not communicate"), r.error());
    }

    @Test
    void fakeRocmSmi(@TempDir Path bin) throws Exception {
        script(bin, "rocm-smi", """
                echo '{"card0": {"GPU use (%%)": "12", "VRAM Total Memory (B)": "68702699520", "VRAM Total Used Memory (B)": "1073741824"}, "system": {}}'
                """.formatted());
        GpuProbe.Result r = new GpuProbe(bin.toString()).read();
        assertTrue(r.available(), String.valueOf(r.error()));
        assertEquals("amd", r.vendor());
        assertEquals(1, r.gpus().size());
        assertEquals(12L, r.gpus().get(0).get("utilization_percent"));
        assertEquals(1024L, r.gpus().get(0).get("memory_used_mib"));
    }
}
