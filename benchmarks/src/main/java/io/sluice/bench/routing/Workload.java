package io.sluice.bench.routing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The chat traffic of one benchmark workload, as OpenAI chat-completion bodies with {@code stream: true}.
 * Each virtual user holds one conversation at a time; a later turn resends the earlier turns (the system
 * prompt, every user message and every assistant reply), as a chat client does, so its prompt starts
 * with the previous turn's prompt: the shape a prefix cache and prefix-affinity routing exploit.
 * The simulator counts a prompt's tokens as words, so prompts are measured in words here.
 */
final class Workload {
    /** The workload names of {@code routing.json}. */
    static final List<String> NAMES = List.of("prefix-heavy", "no-prefix", "hot-tenant");
    private static final String[] VOCABULARY = vocabulary();

    private final String name;
    private final int tenants;
    private final int maxTokens;
    private final String[] systemPrompts;
    private final Conversation[] users;
    private final SplittableRandom seeds;

    Workload(String name, int users, int tenants, int maxTokens, long seed) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("workload '" + name + "' is not one of " + NAMES);
        }
        this.name = name;
        this.tenants = tenants;
        this.maxTokens = maxTokens;
        this.seeds = new SplittableRandom(seed);
        systemPrompts = new String[tenants];
        Random r = new Random(seed);
        for (int t = 0; t < tenants; t++) { // 1,500–2,000 words, each tenant's own
            systemPrompts[t] = "You are the assistant of tenant " + t + ". " + words(r, 1500 + r.nextInt(501));
        }
        this.users = new Conversation[users];
        for (int u = 0; u < users; u++) {
            this.users[u] = new Conversation(u, seeds.split());
        }
    }

    String name() {
        return name;
    }

    /** The next request of virtual user {@code user}; a user has at most one request outstanding. */
    byte[] next(int user) {
        return users[user].next();
    }

    private final class Conversation {
        private final int user;
        private final SplittableRandom random;
        private final List<String[]> messages = new ArrayList<>(); // role, content
        private String id;
        private int turnsLeft;
        private int conversations;

        Conversation(int user, SplittableRandom random) {
            this.user = user;
            this.random = random;
        }

        byte[] next() {
            if (turnsLeft == 0) {
                start();
            } else { // the reply to the previous turn, as the client would resend it
                messages.add(new String[] {"assistant", words(random, maxTokens)});
            }
            messages.add(new String[] {"user", "Question " + messages.size() + ": " + words(random, 20 + random.nextInt(41))});
            turnsLeft--;
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("model", "demo").put("stream", true).put("max_tokens", maxTokens).put("user", id);
            ArrayNode ms = body.putArray("messages");
            for (String[] m : messages) {
                ms.addObject().put("role", m[0]).put("content", m[1]);
            }
            try {
                return Json.MAPPER.writeValueAsBytes(body);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        private void start() {
            messages.clear();
            turnsLeft = 2 + random.nextInt(4); // 2–5 turns
            conversations++;
            String system;
            int tenant;
            switch (name) {
                case "no-prefix" -> { // unique from its first word on: nothing to share
                    tenant = -1;
                    system = "Conversation " + Long.toHexString(random.nextLong()) + ". " + words(random, 1500 + random.nextInt(501));
                    turnsLeft = 1;
                }
                case "hot-tenant" -> { // tenant 0 starts half the conversations
                    tenant = random.nextBoolean() ? 0 : 1 + random.nextInt(tenants - 1);
                    system = systemPrompts[tenant];
                }
                default -> {
                    tenant = random.nextInt(tenants);
                    system = systemPrompts[tenant];
                }
            }
            id = "tenant-" + tenant + "-user-" + user + "-" + conversations;
            messages.add(new String[] {"system", system});
        }
    }

    private static String words(Random r, int n) {
        StringBuilder b = new StringBuilder(n * 7);
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : " ").append(VOCABULARY[r.nextInt(VOCABULARY.length)]);
        }
        return b.toString();
    }

    private static String words(SplittableRandom r, int n) {
        StringBuilder b = new StringBuilder(n * 7);
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : " ").append(VOCABULARY[r.nextInt(VOCABULARY.length)]);
        }
        return b.toString();
    }

    private static String[] vocabulary() {
        String syllables = "ka lo mi nu ra se ti vo pe da fi gu he ja ko lu";
        String[] s = syllables.split(" ");
        String[] v = new String[s.length * s.length];
        for (int i = 0; i < s.length; i++) {
            for (int k = 0; k < s.length; k++) {
                v[i * s.length + k] = s[i] + s[k];
            }
        }
        return v;
    }
}
