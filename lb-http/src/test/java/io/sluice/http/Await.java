package io.sluice.http;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition that an event elsewhere will make true; the timeout only bounds a failure. */
final class Await {
    private Await() {
    }

    static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }
}
