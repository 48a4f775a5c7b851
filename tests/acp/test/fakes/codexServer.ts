// A fake OpenAI Responses API for the real Codex CLI on 127.0.0.1 (the shape of
// extension/e2e/fakeCodexServer.mjs, whose config helpers are reused), with what the ACP tests need
// besides: answers streamed in timed pieces (a streamed answer, a slow one to cancel) and the whole
// input of every model request (to see that the conversation reached the model).
import { json, listen, streamPieces, textOf } from './modelServer.ts';

/** What the model answers: text (in `pieces` parts, `delayMs` apart), or a tool call for Codex to run (a function, or a custom tool such as apply_patch). */
export type CodexReply =
  | string
  | { text: string; pieces?: number; delayMs?: number }
  | { functionCall: { name: string; arguments: unknown } }
  | { customToolCall: { name: string; input: string } };

export type CodexRequest = { users: string[]; lastUser: string; step: number };

export interface FakeCodex {
  baseUrl: string;
  /** Every model request (not title requests), in order. */
  requests: CodexRequest[];
  /** performance.now() when the latest model request (not a title) had been read, its answer's first byte written, its last byte written. */
  requestAt: number;
  firstByteAt: number;
  lastByteAt: number;
  close(): Promise<void>;
}

export async function startFakeCodex(responder: (request: CodexRequest) => CodexReply): Promise<FakeCodex> {
  const requests: CodexRequest[] = [];
  let counter = 0;
  const server = await listen(async (req, request, res) => {
    if (req.method === 'GET' && req.url?.endsWith('/models')) return json(res, 200, { object: 'list', data: [], models: [] });
    if (req.method !== 'POST' || !req.url?.endsWith('/responses')) return json(res, 404, { error: { message: 'not found in fake', type: 'invalid_request_error' } });
    const readAt = performance.now();
    const isTitle = request?.text?.format?.type === 'json_schema';
    const input: any[] = Array.isArray(request.input) ? request.input : [];
    const users = input
      .filter((i) => i?.type === 'message' && i.role === 'user')
      .map((i) => (Array.isArray(i.content) ? i.content.filter((p: any) => p.type === 'input_text').map((p: any) => p.text).join('') : String(i.content ?? '')))
      .filter((t) => !t.startsWith('<'));
    const lastUserAt = input.findLastIndex((i: any) => i?.type === 'message' && i.role === 'user');
    const step = input.slice(lastUserAt + 1).filter((i) => /_output$/.test(i?.type ?? '')).length;
    const seen: CodexRequest = { users, lastUser: users.at(-1) ?? '', step };
    const reply: CodexReply = isTitle ? JSON.stringify({ title: 'ACP test' }) : responder(seen);
    if (!isTitle) (requests.push(seen), (fake.requestAt = readAt));
    const n = ++counter;
    const id = `resp_fake_${n}`;
    const model = request.model ?? 'fake-model';
    const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const sse = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    sse('response.created', { response: { id, object: 'response', model, status: 'in_progress', output: [] } });
    if (!isTitle) fake.firstByteAt = performance.now();
    if (typeof reply === 'object' && ('functionCall' in reply || 'customToolCall' in reply)) {
      const call = 'functionCall' in reply
        ? { type: 'function_call', id: `fc_fake_${n}`, call_id: `call_fake_${n}`, name: reply.functionCall.name, arguments: JSON.stringify(reply.functionCall.arguments) }
        : { type: 'custom_tool_call', id: `ctc_fake_${n}`, call_id: `call_fake_${n}`, name: reply.customToolCall.name, input: reply.customToolCall.input };
      sse('response.output_item.added', { output_index: 0, item: { ...call, status: 'in_progress' } });
      sse('response.output_item.done', { output_index: 0, item: { ...call, status: 'completed' } });
      sse('response.completed', { response: { id, object: 'response', model, status: 'completed', output: [{ ...call, status: 'completed' }], usage } });
      res.end();
      return;
    }
    const { text, pieces, delayMs } = textOf(reply as Exclude<CodexReply, { functionCall: unknown } | { customToolCall: unknown }>);
    const itemId = `msg_fake_${n}`;
    sse('response.output_item.added', { output_index: 0, item: { type: 'message', id: itemId, role: 'assistant', status: 'in_progress', content: [] } });
    // Codex hangs up on an interrupted turn: the rest is not sent.
    if (!(await streamPieces(res, text, pieces, delayMs, (delta) => sse('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta })))) return;
    const message = { type: 'message', id: itemId, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
    sse('response.output_item.done', { output_index: 0, item: message });
    sse('response.completed', { response: { id, object: 'response', model, status: 'completed', output: [message], usage } });
    res.end(() => { if (!isTitle) fake.lastByteAt = performance.now(); });
  });
  const fake: FakeCodex = { baseUrl: `http://127.0.0.1:${server.port}/v1`, requests, requestAt: 0, firstByteAt: 0, lastByteAt: 0, close: server.close };
  return fake;
}
