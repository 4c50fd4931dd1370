package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Keeps the response-body microbenchmark honest: both paths hand the client every byte of the read. */
class ResponseBodyBenchmarkTest {
    @Test
    void bothPathsDeliverTheWholeRead() {
        for (int chunks : new int[] {1, 4}) {
            ResponseBodyBenchmark b = new ResponseBodyBenchmark();
            b.chunks = chunks;
            b.setUp();
            try {
                int read = b.readBytes();
                for (int i = 0; i < 3; i++) {
                    assertEquals(read, b.decoded(), "decoded, " + chunks + " chunks");
                    assertEquals(read, b.passThrough(), "passed through, " + chunks + " chunks");
                }
            } finally {
                b.tearDown();
            }
        }
    }
}
