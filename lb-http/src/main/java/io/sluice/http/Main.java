package io.sluice.http;

public final class Main {
    public static void main(String[] args) {
    }
}
