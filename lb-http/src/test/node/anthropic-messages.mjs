// One message through the official Anthropic SDK, as an application would make it: client.messages.create
// without STREAM; with STREAM, client.messages.stream(...) (the SDK's accumulating helper, which also
// checks the order of the events), or with STREAM_RAW the raw events of create({stream: true}).
// Prints one JSON line (see common.mjs).
//
// Environment:
//   BASE_URL    the API's base, WITHOUT /v1 (the SDK appends /v1/messages)             required
//   MODEL       the model                                                            required
//   API_KEY     sent as x-api-key                                                    default sk-ant-test
//   AUTH_TOKEN  sent as "Authorization: Bearer ..." instead of x-api-key             default unset
//   STREAM      true: stream; false: one JSON response                               default false
//   STREAM_RAW  true: with STREAM, iterate create({stream: true}) instead of stream() default false
//   MESSAGES    the messages, JSON                      default [{"role":"user","content":"hi there"}]
//   SYSTEM      the system prompt: a string, or JSON when it starts with [ (blocks)   default none
//   TOOLS       the tools, JSON                                                      default none
//   MAX_TOKENS  max_tokens (required by the API)                                     default 64
//   EXTRA       more request fields, a JSON object merged into the request           default none
//   HEADERS     more request headers, a JSON object                                  default none
//   TIMEOUT_MS  the SDK's timeout                                                    default 30000
//
// Prints {ok:true, id, model, text, stop_reason, stop_sequence, tool_calls:[{id,name,input}], usage,
// content, events, chunks}: text joins the text blocks (streaming: the text deltas), tool_calls the
// tool_use blocks with their parsed input (streaming: from the input_json deltas), usage and content
// those of the final message, events the stream's event types in order and chunks their count ([] and
// 0 without STREAM); or {ok:false, status, name, message, type, request_id, body, text, events, chunks}
// when the SDK raised (name: the SDK's error class, e.g. RateLimitError; type: the error body's
// error.type, e.g. overloaded_error).
import Anthropic from '@anthropic-ai/sdk';
import { bool, failure, int, json, print, required } from './common.mjs';

const baseURL = required('BASE_URL');
const model = required('MODEL');
const stream = bool('STREAM', false);
const raw = bool('STREAM_RAW', false);
const system = process.env.SYSTEM?.startsWith('[') ? json('SYSTEM') : process.env.SYSTEM || undefined;
const params = {
  model,
  max_tokens: int('MAX_TOKENS', 64),
  messages: json('MESSAGES', [{ role: 'user', content: 'hi there' }]),
  ...(system !== undefined && { system }),
  ...(json('TOOLS', undefined) !== undefined && { tools: json('TOOLS') }),
  ...json('EXTRA', {}),
};
const authToken = process.env.AUTH_TOKEN || undefined;
const client = new Anthropic({
  baseURL,
  ...(authToken ? { authToken, apiKey: null } : { apiKey: process.env.API_KEY || 'sk-ant-test' }),
  maxRetries: 0,
  timeout: int('TIMEOUT_MS', 30000),
  defaultHeaders: json('HEADERS', {}),
});

function summary(message) {
  const content = message.content ?? [];
  return {
    id: message.id,
    model: message.model,
    stop_reason: message.stop_reason ?? null,
    stop_sequence: message.stop_sequence ?? null,
    tool_calls: content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name, input: b.input })),
    usage: message.usage ?? null,
    content,
  };
}

let text = '';
const events = [];
try {
  if (!stream) {
    const message = await client.messages.create(params);
    text = (message.content ?? []).filter((b) => b.type === 'text').map((b) => b.text).join('');
    print({ ok: true, ...summary(message), text, events, chunks: 0 });
  } else if (!raw) {
    const s = client.messages.stream(params);
    s.on('text', (delta) => { text += delta; });
    for await (const event of s) {
      events.push(event.type);
    }
    const message = await s.finalMessage();
    print({ ok: true, ...summary(message), text, events, chunks: events.length });
  } else {
    // By hand, as a client that reads the events itself would: message_start carries the message
    // (and the input usage), content_block_* build the blocks, message_delta the stop reason and output usage.
    let message = null;
    const partialJson = [];
    for await (const event of await client.messages.create({ ...params, stream: true })) {
      events.push(event.type);
      switch (event.type) {
        case 'message_start':
          message = structuredClone(event.message);
          break;
        case 'content_block_start':
          message.content[event.index] = structuredClone(event.content_block);
          partialJson[event.index] = '';
          break;
        case 'content_block_delta': {
          const block = message.content[event.index];
          if (event.delta.type === 'text_delta') {
            block.text += event.delta.text;
            text += event.delta.text;
          } else if (event.delta.type === 'input_json_delta') {
            partialJson[event.index] += event.delta.partial_json;
          } else if (event.delta.type === 'thinking_delta') {
            block.thinking += event.delta.thinking;
          }
          break;
        }
        case 'content_block_stop': {
          const block = message.content[event.index];
          if (block.type === 'tool_use' && partialJson[event.index]) {
            block.input = JSON.parse(partialJson[event.index]);
          }
          break;
        }
        case 'message_delta':
          Object.assign(message, event.delta);
          message.usage = { ...message.usage, ...event.usage };
          break;
        default: // message_stop, ping
      }
    }
    print({ ok: true, ...summary(message ?? {}), text, events, chunks: events.length });
  }
} catch (e) {
  print(failure(e, { text, events, chunks: events.length }));
}
