package io.sluice.admin;

public final class AdminHandler {
}
