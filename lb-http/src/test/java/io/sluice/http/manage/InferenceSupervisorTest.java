package io.sluice.http.manage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class InferenceSupervisorTest {
    @Test
    void secretsInTheCommandLineAreNotLogged() {
        assertEquals("vllm serve m --api-key <redacted> --port 8001 --hf-token=<redacted> --dtype auto",
                InferenceSupervisor.redacted(List.of("vllm", "serve", "m", "--api-key", "sk-123", "--port", "8001",
                        "--hf-token=hf_abc", "--dtype", "auto")));
    }
}
