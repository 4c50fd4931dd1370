package io.sluice.core.provider;

/** The LLM API wire formats Sluice translates between. OpenAI's chat completions is the pivot. */
public enum WireFormat {
    /** OpenAI chat completions (also Groq, HuggingFace's router, LM Studio, vLLM). */
    OPENAI,
    /** Anthropic Messages ({@code /v1/messages}). */
    ANTHROPIC,
    /** Google Gemini ({@code :generateContent}, {@code :streamGenerateContent?alt=sse}). */
    GEMINI,
    /** Ollama's native API ({@code /api/chat}, NDJSON). */
    OLLAMA
}
