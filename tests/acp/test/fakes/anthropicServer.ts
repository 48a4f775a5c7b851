// A fake Anthropic Messages API for the real Claude Code on 127.0.0.1 (the shape of
// tests/AgentSidecar.Agents.Tests/Fakes/FakeAnthropicServer.cs): POST /v1/messages answers SSE
// (message_start, content blocks, message_delta with stop_reason, message_stop); a tool_use block
// makes Claude Code run the tool and send its tool_result in the next request. Side requests
// (titles, summaries: a JSON-schema output format, or no tools) get a small answer fitting them.
import { json, listen, streamPieces, textOf, type Reply } from './modelServer.ts';

export type AnthropicRequest = { users: string[]; lastUser: string; toolResult?: string; model?: string };

export async function startFakeAnthropic(responder: (request: AnthropicRequest) => Reply) {
  const requests: AnthropicRequest[] = [];
  let counter = 0;
  const server = await listen(async (req, body, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path.endsWith('/v1/messages/count_tokens')) return json(res, 200, { input_tokens: 10 });
    if (!path.endsWith('/v1/messages')) return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'not found in fake' } });
    const format = body.output_format ?? body.output_config?.format;
    const schema = format?.type === 'json_schema' ? format.schema ?? {} : undefined;
    const side = schema !== undefined || !Array.isArray(body.tools) || body.tools.length === 0;
    const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
    const texts = (m: any) => (typeof m.content === 'string' ? [m.content] : (m.content ?? []).filter((p: any) => p.type === 'text').map((p: any) => p.text));
    // What the user typed: reminders, command wrappers and interruption notes start with '<' or '['.
    const users = messages.filter((m) => m.role === 'user').map((m) => texts(m).filter((t: string) => !t.startsWith('<') && !t.startsWith('[Request interrupted')).join('')).filter((t) => t.length > 0);
    const last = messages.filter((m) => m.role === 'user').at(-1);
    const result = Array.isArray(last?.content) ? last.content.find((p: any) => p.type === 'tool_result') : undefined;
    const seen: AnthropicRequest = { users, lastUser: users.at(-1) ?? '', toolResult: result ? JSON.stringify(result.content) : undefined, model: typeof body.model === 'string' ? body.model : undefined };
    const reply: Reply = side ? (schema ? JSON.stringify(sample(schema)) : 'Fake title') : responder(seen);
    if (!side) requests.push(seen);
    const n = ++counter;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const sse = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    sse('message_start', { message: { id: `msg_fake_${n}`, type: 'message', role: 'assistant', model: body.model ?? 'fake-model', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } } });
    let stop = 'end_turn';
    if (typeof reply === 'object' && 'tool' in reply) {
      sse('content_block_start', { index: 0, content_block: { type: 'tool_use', id: `toolu_fake_${n}`, name: reply.tool.name, input: {} } });
      sse('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(reply.tool.input) } });
      sse('content_block_stop', { index: 0 });
      stop = 'tool_use';
    } else {
      const { text, pieces, delayMs } = textOf(reply);
      sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      if (!(await streamPieces(res, text, pieces, delayMs, (piece) => sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } })))) return;
      sse('content_block_stop', { index: 0 });
    }
    sse('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } });
    sse('message_stop', {});
    res.end();
  });
  return { baseUrl: `http://127.0.0.1:${server.port}`, requests, close: server.close };
}

/** A value fitting a simple JSON schema: strings "Fake title", booleans false, numbers 0, arrays empty. */
function sample(schema: any): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type ?? (schema.properties ? 'object' : 'string');
  switch (type) {
    case 'object': return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v)]));
    case 'array': return [];
    case 'boolean': return false;
    case 'integer': case 'number': return 0;
    case 'null': return null;
    default: return 'Fake title';
  }
}
