package io.sluice.sim;

public final class SimulatorMain {
    public static void main(String[] args) {
    }
}
