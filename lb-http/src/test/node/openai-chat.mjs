// One chat completion through the official OpenAI SDK (client.chat.completions.create), as an
// application would make it; prints one JSON line (see common.mjs).
//
// Environment:
//   BASE_URL       the API's base, ending in /v1 (the SDK appends /chat/completions)   required
//   MODEL          the model                                                           required
//   API_KEY        sent as "Authorization: Bearer ..."                                  default sk-test
//   STREAM         true: stream and iterate the chunks; false: one JSON response       default false
//   INCLUDE_USAGE  true: stream_options.include_usage (streaming only)                 default unset
//   MESSAGES       the messages, JSON                      default [{"role":"user","content":"hi there"}]
//   TOOLS          the tools, JSON                                                     default none
//   MAX_TOKENS     max_tokens                                                          default none
//   EXTRA          more request fields, a JSON object merged into the request          default none
//   HEADERS        more request headers, a JSON object                                 default none
//   TIMEOUT_MS     the SDK's timeout                                                   default 30000
//
// Prints {ok:true, id, model, text, finish_reason, tool_calls:[{id,name,arguments}], usage, chunks}
// (chunks: how many stream chunks arrived, 0 without STREAM; usage: null when the server sent none),
// or {ok:false, status, name, message, type, code, param, request_id, body, text, chunks} when the
// SDK raised (name: the SDK's error class, e.g. RateLimitError).
import OpenAI from 'openai';
import { bool, failure, int, json, print, required } from './common.mjs';

const baseURL = required('BASE_URL');
const model = required('MODEL');
const stream = bool('STREAM', false);
const includeUsage = bool('INCLUDE_USAGE', undefined);
const params = {
  model,
  messages: json('MESSAGES', [{ role: 'user', content: 'hi there' }]),
  ...(json('TOOLS', undefined) !== undefined && { tools: json('TOOLS') }),
  ...(int('MAX_TOKENS', undefined) !== undefined && { max_tokens: int('MAX_TOKENS') }),
  ...(stream && includeUsage !== undefined && { stream_options: { include_usage: includeUsage } }),
  ...json('EXTRA', {}),
  stream,
};
const client = new OpenAI({
  baseURL,
  apiKey: process.env.API_KEY || 'sk-test',
  maxRetries: 0,
  timeout: int('TIMEOUT_MS', 30000),
  defaultHeaders: json('HEADERS', {}),
});

let text = '';
let chunks = 0;
try {
  if (stream) {
    let id = null;
    let model = null;
    let finishReason = null;
    let usage = null;
    const calls = []; // by the delta's index
    for await (const chunk of await client.chat.completions.create(params)) {
      chunks++;
      id ??= chunk.id;
      model ??= chunk.model;
      if (chunk.usage) {
        usage = chunk.usage;
      }
      const choice = chunk.choices?.[0];
      if (!choice) {
        continue;
      }
      text += choice.delta?.content ?? '';
      for (const d of choice.delta?.tool_calls ?? []) {
        const c = (calls[d.index ?? 0] ??= { id: null, name: '', arguments: '' });
        c.id = d.id ?? c.id;
        c.name += d.function?.name ?? '';
        c.arguments += d.function?.arguments ?? '';
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
    print({ ok: true, id, model, text, finish_reason: finishReason, tool_calls: calls.filter(Boolean), usage, chunks });
  } else {
    const r = await client.chat.completions.create(params);
    const choice = r.choices[0];
    text = choice.message.content ?? '';
    const toolCalls = (choice.message.tool_calls ?? [])
      .map((c) => ({ id: c.id, name: c.function?.name, arguments: c.function?.arguments }));
    print({
      ok: true, id: r.id, model: r.model, text, finish_reason: choice.finish_reason, tool_calls: toolCalls,
      usage: r.usage ?? null, chunks,
    });
  }
} catch (e) {
  print(failure(e, { text, chunks }));
}
